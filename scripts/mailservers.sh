#!/usr/bin/env bash
# mailservers.sh: private Dovecot (IMAP + LMTP) and Postfix (SMTP) on loopback for end-to-end tests.
#
# Usage (as root; Dovecot and Postfix both insist on it):
#   scripts/mailservers.sh start DIR            set up DIR (created if missing) and start both servers
#   scripts/mailservers.sh stop DIR             stop exactly the servers started from DIR (pid files)
#   scripts/mailservers.sh env DIR              print DIR/env (the shell variables below)
#   scripts/mailservers.sh restart-dovecot DIR  stop and start Dovecot only (same port, same mail)
#   scripts/mailservers.sh stop-postfix DIR     stop Postfix only (SMTP port then refuses)
#   scripts/mailservers.sh start-postfix DIR    start Postfix again
#
# Environment for `start`:
#   MAILSERVERS_WATCH_PID=PID  also start a watchdog that runs `stop DIR` once PID has exited,
#                              so a test process that dies (or never runs destructors) leaks no daemons.
#   MAILSERVERS_CLEANUP=1      the watchdog also removes DIR after stopping.
#
# Installs dovecot-imapd, dovecot-lmtpd, postfix and python3 with apt-get when they are missing.
#
# What runs:
#   Dovecot  IMAP on 127.0.0.1:$IMAP_PORT, STARTTLS offered, plaintext LOGIN/PLAIN allowed too
#            (loopback tests), IDLE, MOVE, UIDPLUS; LMTP on the unix socket $LMTP_SOCKET.
#            Users in DIR/passwd (passwd-file, plain passwords), maildirs under DIR/mail/USER,
#            auth_failure_delay = 0. The logins are the bare user names below.
#            Variants of the same instance (same users, same mail):
#              127.0.0.1:$IMAPS_PORT                 implicit TLS (like port 993).
#              $IMAP_NOIDLE_HOST:$IMAP_NOIDLE_PORT   STARTTLS; CAPABILITY without IDLE and MOVE
#                                                    (UIDPLUS kept): clients must poll and COPY.
#              $IMAP_MINIMAL_HOST:$IMAP_MINIMAL_PORT STARTTLS; without IDLE, MOVE and UIDPLUS.
#            (Dovecot only stops advertising them; the commands still work. Sessions on the
#            two reduced listeners are recorded in $RAWLOG_DIR/USER/*.in and *.out, so tests
#            can check what a client really sent.)
#            XOAUTH2 and OAUTHBEARER logins are checked by the oauth2 passdb against
#            $OAUTH2_URL (scripts/oauth2-tokeninfo.py, Python 3), which knows exactly one
#            token per user: <NAME>_OAUTH_TOKEN. Password logins never reach it.
#   Postfix  SMTP on 127.0.0.1:$SMTP_PORT (STARTTLS offered, not required). Accepts mail for the
#            users below at both test domains and hands it to Dovecot over LMTP. Any other
#            recipient gets 550 (unknown user) or 554 (relay denied); nothing is relayed anywhere.
#            A second listener of the same Postfix on 127.0.0.1:$SMTPS_PORT speaks implicit TLS
#            (wrapper mode, like port 465) and offers AUTH PLAIN/LOGIN, checked by Dovecot
#            (same users and passwords as IMAP); AUTH is optional there, as on the first.
#            A third, on 127.0.0.1:$SMTP_SLOW_PORT, waits 4 s before answering the end of a
#            message's content (smtpd_end_of_data_restrictions = sleep 4): a server whose
#            answer does not come in time.
#   TLS      A throwaway CA ($CA_FILE) signs a certificate for `localhost`, 127.0.0.1, 127.0.0.2
#            and 127.0.0.3 used by both servers (rustls refuses a self-signed server certificate used as its own CA).
#
# Domains: amazee.test (the support side) and example.test (customers). Every user exists at both,
# and also at alpenshop-example.ch (a customer whose domain is under a real public suffix, so
# sender verification and target ownership can hold for it: `.test` has no organizational
# domain) and third-party-example.org (a bystander, for reflection tests).
# Users (login = password prefix): support, customer, security, staff, loop.
#
# DIR/env (shell syntax, also parsed by tests/it/mailservers.rs):
#   IMAP_HOST=127.0.0.1  IMAP_PORT=...  SMTP_HOST=127.0.0.1  SMTP_PORT=...  CA_FILE=DIR/tls/ca.pem
#   SMTPS_PORT=...  SMTP_SLOW_PORT=...
#   IMAPS_PORT=...  IMAP_NOIDLE_HOST=127.0.0.2  IMAP_NOIDLE_PORT=...  IMAP_MINIMAL_HOST=127.0.0.3
#   IMAP_MINIMAL_PORT=...  OAUTH2_PORT=...  OAUTH2_URL=http://127.0.0.1:PORT/tokeninfo
#   RAWLOG_DIR=DIR/rawlog  LMTP_SOCKET=...  MAIL_DIR=DIR/mail  SUPPORT_DOMAIN=amazee.test
#   CUSTOMER_DOMAIN=example.test  EXTRA_DOMAINS="alpenshop-example.ch third-party-example.org"
#   USERS="support customer security staff loop"
#   <NAME>_USER, <NAME>_PASSWORD, <NAME>_ADDRESS, <NAME>_OAUTH_TOKEN for NAME in SUPPORT CUSTOMER
#   SECURITY STAFF LOOP
#   (addresses: support@amazee.test, customer@example.test, security@amazee.test,
#   staff@amazee.test, loop@amazee.test)
set -euo pipefail

SUPPORT_DOMAIN=amazee.test
CUSTOMER_DOMAIN=example.test
EXTRA_DOMAINS="alpenshop-example.ch third-party-example.org"
USERS="support customer security staff loop"

die() {
	echo "mailservers.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '3,9p' "$0" >&2
	exit 2
}

password_of() { echo "$1-secret"; }

# The one access token the test token endpoint accepts for a user (random per folder, so a
# token from another run is wrong).
oauth_token_of() { echo "oauth-$1-$(cat "$2/oauth-salt")"; }

domain_of() {
	if [ "$1" = customer ]; then echo "$CUSTOMER_DOMAIN"; else echo "$SUPPORT_DOMAIN"; fi
}

ensure_packages() {
	if command -v dovecot >/dev/null 2>&1 && command -v postfix >/dev/null 2>&1 &&
		[ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/lmtp ] &&
		python3 -c 'import http.server' >/dev/null 2>&1; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "dovecot/postfix missing and not root: cannot install"
	echo "mailservers.sh: installing dovecot-imapd dovecot-lmtpd postfix python3" >&2
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	local pkgs="dovecot-imapd dovecot-lmtpd postfix python3"
	# shellcheck disable=SC2086
	if ! apt-get install -y -q $pkgs >/dev/null 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		apt-get install -y -q $pkgs >/dev/null || die "apt-get install $pkgs failed"
	fi
}

# A free TCP port on 127.0.0.1, or on the address given (asks the kernel; falls back to probing
# random ports).
free_port() {
	local p host="${1:-127.0.0.1}"
	if command -v python3 >/dev/null 2>&1 &&
		p=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$host" 2>/dev/null); then
		echo "$p"
		return
	fi
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/$host/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

make_tls() {
	local t="$1/tls"
	mkdir -p "$t"
	[ -s "$t/server.pem" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
		-subj "/CN=intake test CA" -keyout "$t/ca.key" -out "$t/ca.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		>/dev/null 2>&1 || die "openssl: CA"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=localhost" -keyout "$t/server.key" -out "$t/server.csr" >/dev/null 2>&1 ||
		die "openssl: CSR"
	cat >"$t/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3
EOF
	openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
		-days 3650 -extfile "$t/server.ext" -out "$t/server.pem" >/dev/null 2>&1 ||
		die "openssl: sign"
	chmod 644 "$t/server.key" "$t/server.pem" "$t/ca.pem"
}

write_config() {
	local d="$1" imap_port smtp_port smtps_port slow_port imaps_port noidle_port minimal_port oauth_port u p v taken
	# Ask until the six ports on 127.0.0.1 differ (the kernel may hand a freed port out again).
	taken=" "
	for v in imap_port smtp_port smtps_port slow_port imaps_port oauth_port; do
		p=$(free_port)
		while [[ "$taken" == *" $p "* ]]; do p=$(free_port); done
		taken="$taken$p "
		printf -v "$v" '%s' "$p"
	done
	noidle_port=$(free_port 127.0.0.2)
	minimal_port=$(free_port 127.0.0.3)

	# mktemp -d gives 0700; the dovecot, postfix and mail users must be able to enter.
	chmod 755 "$d"
	mkdir -p "$d/mail" "$d/run" "$d/state" "$d/postfix" "$d/postfix-spool" "$d/postfix-data"
	chown mail:mail "$d/mail"
	openssl rand -hex 12 >"$d/oauth-salt"
	for u in $USERS; do mkdir -p "$d/rawlog/$u"; done
	chown -R mail:mail "$d/rawlog"
	chmod 755 "$d/run" "$d/state"
	chown postfix:postfix "$d/postfix-data"
	make_tls "$d"

	: >"$d/passwd"
	: >"$d/postfix/vmailbox"
	for u in $USERS; do
		echo "$u:{PLAIN}$(password_of "$u")::::::" >>"$d/passwd"
		printf '%s@%s OK\n%s@%s OK\n' "$u" "$SUPPORT_DOMAIN" "$u" "$CUSTOMER_DOMAIN" >>"$d/postfix/vmailbox"
		for x in $EXTRA_DOMAINS; do printf '%s@%s OK\n' "$u" "$x" >>"$d/postfix/vmailbox"; done
	done
	chmod 644 "$d/passwd"

	cat >"$d/dovecot.conf" <<EOF
# Generated by scripts/mailservers.sh: a private test instance, nothing from /etc/dovecot.
instance_name = intake-test-$imap_port
base_dir = $d/run/dovecot
state_dir = $d/state
log_path = $d/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <$d/tls/server.pem
ssl_key = <$d/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_username_format = %Ln
first_valid_uid = 1
mail_uid = mail
mail_gid = mail
mail_location = maildir:$d/mail/%n
mailbox_idle_check_interval = 1 secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $d/passwd
  # "none": the lookups without a login (LMTP's userdb check that the user exists).
  mechanisms = plain login none
}
# Tokens go to the token endpoint, passwords never do (so a stopped endpoint cannot turn a
# wrong password into a temporary failure).
passdb {
  driver = oauth2
  args = $d/dovecot-oauth2.conf.ext
  mechanisms = xoauth2 oauthbearer
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$d/mail/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Handled {
    auto = create
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }
  inet_listener imap_noidle {
    address = 127.0.0.2
    port = $noidle_port
  }
  inet_listener imap_minimal {
    address = 127.0.0.3
    port = $minimal_port
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
# Postfix's implicit-TLS listener checks SMTP AUTH here (smtpd_sasl_type = dovecot).
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol imap {
  imap_idle_notify_interval = 1 mins
}
# The reduced servers: the same mail behind a shorter CAPABILITY list, with raw session logs.
local 127.0.0.2 {
  protocol imap {
    imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UNSELECT CHILDREN UIDPLUS
    rawlog_dir = $d/rawlog/%n
  }
}
local 127.0.0.3 {
  protocol imap {
    imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UNSELECT CHILDREN
    rawlog_dir = $d/rawlog/%n
  }
}
EOF

	cat >"$d/dovecot-oauth2.conf.ext" <<EOF
# Generated by scripts/mailservers.sh: tokens are checked by scripts/oauth2-tokeninfo.py.
tokeninfo_url = http://127.0.0.1:$oauth_port/tokeninfo?access_token=
username_attribute = username
timeout_msecs = 5000
EOF

	cat >"$d/postfix/main.cf" <<EOF
# Generated by scripts/mailservers.sh: a private test instance.
compatibility_level = 3.6
queue_directory = $d/postfix-spool
data_directory = $d/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.$SUPPORT_DOMAIN
mydomain = $SUPPORT_DOMAIN
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
virtual_alias_domains =
virtual_alias_maps =
virtual_mailbox_domains = $SUPPORT_DOMAIN $CUSTOMER_DOMAIN $EXTRA_DOMAINS
virtual_mailbox_maps = texthash:$d/postfix/vmailbox
virtual_transport = lmtp:unix:$d/run/dovecot/lmtp
default_transport = error:no relaying from the intake test server
smtpd_relay_restrictions = reject_unauth_destination
smtputf8_enable = no
biff = no
maillog_file = $d/postfix.log
maillog_file_prefixes = $d
smtpd_tls_security_level = may
smtpd_tls_cert_file = $d/tls/server.pem
smtpd_tls_key_file = $d/tls/server.key
# AUTH is switched on only for the implicit-TLS listener (master.cf); Dovecot checks it.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $d/run/dovecot/auth-postfix
smtpd_banner = \$myhostname ESMTP intake-test
lmtp_connect_timeout = 5s
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
# A test server takes what intake sends as fast as it comes: no flow-control pause when
# arrivals outrun LMTP delivery (the default 1 s pause would measure Postfix, not intake).
in_flow_delay = 0
EOF

	cat >"$d/postfix/master.cf" <<EOF
# Generated by scripts/mailservers.sh: no chroot, so sockets under DIR work.
127.0.0.1:$smtp_port inet n - n - - smtpd
127.0.0.1:$smtps_port inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:$slow_port inet n - n - - smtpd
  -o syslog_name=postfix/slow
  -o smtpd_end_of_data_restrictions=sleep,4
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

	{
		echo "# Generated by scripts/mailservers.sh start $d"
		echo "MAILSERVERS_DIR=$d"
		echo "IMAP_HOST=127.0.0.1"
		echo "IMAP_PORT=$imap_port"
		echo "SMTP_HOST=127.0.0.1"
		echo "SMTP_PORT=$smtp_port"
		echo "SMTPS_PORT=$smtps_port"
		echo "SMTP_SLOW_PORT=$slow_port"
		echo "IMAPS_PORT=$imaps_port"
		echo "IMAP_NOIDLE_HOST=127.0.0.2"
		echo "IMAP_NOIDLE_PORT=$noidle_port"
		echo "IMAP_MINIMAL_HOST=127.0.0.3"
		echo "IMAP_MINIMAL_PORT=$minimal_port"
		echo "OAUTH2_PORT=$oauth_port"
		echo "OAUTH2_URL=http://127.0.0.1:$oauth_port/tokeninfo"
		echo "RAWLOG_DIR=$d/rawlog"
		echo "CA_FILE=$d/tls/ca.pem"
		echo "LMTP_SOCKET=$d/run/dovecot/lmtp"
		echo "MAIL_DIR=$d/mail"
		echo "SUPPORT_DOMAIN=$SUPPORT_DOMAIN"
		echo "CUSTOMER_DOMAIN=$CUSTOMER_DOMAIN"
		echo "EXTRA_DOMAINS=\"$EXTRA_DOMAINS\""
		echo "USERS=\"$USERS\""
		for u in $USERS; do
			local up
			up=$(echo "$u" | tr '[:lower:]' '[:upper:]')
			echo "${up}_USER=$u"
			echo "${up}_PASSWORD=$(password_of "$u")"
			echo "${up}_ADDRESS=$u@$(domain_of "$u")"
			echo "${up}_OAUTH_TOKEN=$(oauth_token_of "$u" "$d")"
		done
	} >"$d/env"
	# Postfix waits ~2 s at start when main.cf is younger than 2 s; backdate it.
	touch -d '-10 seconds' "$d/postfix/main.cf" "$d/postfix/master.cf" 2>/dev/null || true
}

env_value() { sed -n "s/^$2=//p" "$1/env"; }

wait_port() {
	local port="$1" what="$2" host="${3:-127.0.0.1}"
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	die "$what did not open $host:$port (see logs in the folder)"
}

wait_gone() {
	local port="$1"
	for _ in $(seq 1 100); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
}

# True while a process exists and is not a zombie (nobody may reap it in a container).
alive() {
	local line rest
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	rest="${line##*) }"
	[ "${rest%% *}" != Z ]
}

# Direct children of a process (from /proc, so no procps needed).
children_of() {
	local parent="$1" f line rest
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		rest="${line##*) }" # after "pid (comm) "
		set -- $rest
		if [ "${2:-}" = "$parent" ]; then
			line="${f#/proc/}"
			echo "${line%/stat}"
		fi
	done
}

# Kill the process named in a pid file, if it is still alive, and wait for it to exit. Its
# children are remembered first and killed too if they outlive it: Dovecot's imap processes
# keep serving their connections after the master is gone, which would make a "restart" keep
# old sessions alive and leave processes behind after `stop`.
kill_pidfile() {
	local f="$1" pid kids k
	[ -s "$f" ] || return 0
	pid=$(head -n1 "$f" | tr -d ' \n')
	case "$pid" in '' | *[!0-9]*) return 0 ;; esac
	if alive "$pid"; then
		kids=$(children_of "$pid")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			alive "$pid" || break
			sleep 0.1
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
		for k in $kids; do
			kill -TERM "$k" 2>/dev/null || true
		done
		for k in $kids; do
			for _ in $(seq 1 20); do
				alive "$k" || break
				sleep 0.1
			done
			alive "$k" && kill -KILL "$k" 2>/dev/null || true
		done
	fi
	rm -f "$f"
}

oauth2_pidfile() { echo "$1/oauth2.pid"; }

# The token endpoint Dovecot's oauth2 passdb asks (setsid + closed stdio, like the watchdog,
# so it holds no pipes of the caller).
start_oauth2() {
	local d="$1" pf port args u
	pf=$(oauth2_pidfile "$d")
	if [ -s "$pf" ] && alive "$(cat "$pf")"; then
		return 0
	fi
	rm -f "$pf"
	port=$(env_value "$d" OAUTH2_PORT)
	args=()
	for u in $USERS; do args+=("$(oauth_token_of "$u" "$d")=$u"); done
	setsid python3 "$(dirname "$(readlink -f "$0")")/oauth2-tokeninfo.py" "$port" "$pf" "${args[@]}" \
		</dev/null >>"$d/oauth2.log" 2>&1 &
	wait_port "$port" "oauth2-tokeninfo.py"
	for _ in $(seq 1 50); do
		[ -s "$pf" ] && break
		sleep 0.1
	done
}

stop_oauth2() {
	local d="$1"
	kill_pidfile "$(oauth2_pidfile "$d")"
	return 0
}

start_dovecot() {
	local d="$1"
	if [ -s "$d/run/dovecot/master.pid" ] && alive "$(cat "$d/run/dovecot/master.pid")"; then
		return 0
	fi
	dovecot -c "$d/dovecot.conf" </dev/null >>"$d/dovecot.start.log" 2>&1 ||
		die "dovecot failed to start: $(tail -n 5 "$d/dovecot.start.log" "$d/dovecot.log" 2>/dev/null)"
	wait_port "$(env_value "$d" IMAP_PORT)" dovecot
	wait_port "$(env_value "$d" IMAPS_PORT)" dovecot
	wait_port "$(env_value "$d" IMAP_NOIDLE_PORT)" dovecot 127.0.0.2
	wait_port "$(env_value "$d" IMAP_MINIMAL_PORT)" dovecot 127.0.0.3
	for _ in $(seq 1 50); do
		[ -S "$d/run/dovecot/lmtp" ] && break
		sleep 0.1
	done
	# Under load the master writes its pid file a moment after the socket is up: wait for it,
	# or a failed start would leave an orphaned Dovecot nobody stops.
	for _ in $(seq 1 100); do
		[ -s "$d/run/dovecot/master.pid" ] && break
		sleep 0.1
	done
	# A copy of the pid next to the others, for people looking; stop uses Dovecot's own file.
	cp "$d/run/dovecot/master.pid" "$d/dovecot.pid"
}

stop_dovecot() {
	local d="$1"
	kill_pidfile "$d/run/dovecot/master.pid"
	rm -f "$d/dovecot.pid"
	[ -s "$d/env" ] && wait_gone "$(env_value "$d" IMAP_PORT)"
	return 0
}

postfix_pidfile() { echo "$1/postfix-spool/pid/master.pid"; }

start_postfix() {
	local d="$1" pf
	pf=$(postfix_pidfile "$d")
	if [ -s "$pf" ] && alive "$(head -n1 "$pf" | tr -d ' ')"; then
		return 0
	fi
	postfix -c "$d/postfix" start </dev/null >>"$d/postfix.start.log" 2>&1 ||
		die "postfix failed to start: $(tail -n 5 "$d/postfix.start.log" "$d/postfix.log" 2>/dev/null)"
	wait_port "$(env_value "$d" SMTP_PORT)" postfix
	# Folders set up by an older version of this script have no implicit-TLS listener.
	local smtps
	smtps=$(env_value "$d" SMTPS_PORT)
	if [ -n "$smtps" ]; then wait_port "$smtps" postfix; fi
	local slow
	slow=$(env_value "$d" SMTP_SLOW_PORT)
	if [ -n "$slow" ]; then wait_port "$slow" postfix; fi
	cp "$pf" "$d/postfix.pid" 2>/dev/null || true
}

stop_postfix() {
	local d="$1"
	kill_pidfile "$(postfix_pidfile "$d")"
	rm -f "$d/postfix.pid"
	[ -s "$d/env" ] && wait_gone "$(env_value "$d" SMTP_PORT)"
	return 0
}

start_watchdog() {
	local d="$1" watch="$2" self
	self=$(readlink -f "$0")
	# setsid + closed stdio: the watchdog must not hold the test runner's pipes open.
	setsid bash -c '
		d="$1"; watch="$2"; self="$3"; cleanup="$4"
		# Gone, or a zombie its parent has not reaped yet: either way the tests are over.
		while [ -r "/proc/$watch/stat" ] && ! grep -q ") Z " "/proc/$watch/stat" 2>/dev/null; do
			sleep 1
		done
		"$self" stop "$d"
		if [ "$cleanup" = 1 ]; then rm -rf "$d"; fi
	' watchdog "$d" "$watch" "$self" "${MAILSERVERS_CLEANUP:-0}" </dev/null >>"$d/watchdog.log" 2>&1 &
	echo $! >"$d/watchdog.pid"
}

stop_watchdog() {
	local d="$1" pid
	[ -s "$d/watchdog.pid" ] || return 0
	pid=$(cat "$d/watchdog.pid")
	rm -f "$d/watchdog.pid"
	# When the watchdog itself runs `stop`, it is our parent: do not kill it.
	if [ "$pid" != "$PPID" ] && [ "$pid" != "$$" ] && alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
	fi
}

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || usage
case "$cmd" in
start | stop | env | restart-dovecot | stop-postfix | start-postfix) ;;
*) usage ;;
esac
if [ "$cmd" = start ]; then mkdir -p "$dir"; fi
[ -d "$dir" ] || die "no such folder: $dir"
dir=$(cd "$dir" && pwd -P)

case "$cmd" in
start)
	[ "$(id -u)" = 0 ] || die "must run as root (dovecot and postfix require it)"
	ensure_packages
	[ -s "$dir/env" ] || write_config "$dir"
	start_oauth2 "$dir"
	start_dovecot "$dir"
	start_postfix "$dir"
	if [ -n "${MAILSERVERS_WATCH_PID:-}" ]; then start_watchdog "$dir" "$MAILSERVERS_WATCH_PID"; fi
	cat "$dir/env"
	;;
stop)
	stop_watchdog "$dir"
	stop_postfix "$dir"
	stop_dovecot "$dir"
	stop_oauth2 "$dir"
	;;
env)
	[ -s "$dir/env" ] || die "$dir/env missing: run start first"
	cat "$dir/env"
	;;
restart-dovecot)
	stop_dovecot "$dir"
	start_dovecot "$dir"
	;;
stop-postfix)
	stop_postfix "$dir"
	;;
start-postfix)
	start_postfix "$dir"
	;;
esac
