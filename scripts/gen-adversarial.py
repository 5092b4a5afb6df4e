#!/usr/bin/env python3
"""Writes the adversarial corpus: fixtures/adversarial/NNN-category-trick.eml and expect.toml.

Each case is a small mutation of an honest, realistic notification (the header set our MX
mx.amazee.io leaves: Return-Path, Delivered-To, Authentication-Results, Received,
DKIM-Signature; Thunderbird plain text, Outlook HTML, Gmail multipart, German), named for
the trick it tries, with its expected safe outcome in expect.toml. tests/it/adversarial.rs
walks them all.

Every message arrives at ARRIVAL (the harness passes it as the known arrival time, like
`intake check --received`), and every date inside fits that arrival, so the corpus never
rots. Rerun after editing: `python3 scripts/gen-adversarial.py` (deterministic output).
"""

import base64
import os
import re
import shutil
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "adversarial")

# The fixed arrival: Thursday 26 November 2026, 09:00 UTC (10:00 in Zurich).
ARRIVAL = "2026-11-26T09:00:00Z"
RECEIVED_DATE = "Thu, 26 Nov 2026 10:00:00 +0100 (CET)"
SENT_DATE = "Thu, 26 Nov 2026 09:59:41 +0100"

# Windows relative to that arrival.
STD_START, STD_END = "14.12.2026 08:00", "18.12.2026 18:00"  # 17.96 days: enough for standard
BROAD_START, BROAD_END = "11.01.2027 20:00", "13.01.2027 23:00"  # 46 days: enough for broad
TWENTY_START, TWENTY_END = "16.12.2026 08:00", "17.12.2026 18:00"  # 19.96 days: standard only


class Customer:
    def __init__(self, name, address, org, phone, targets, ips, relay):
        self.name = name
        self.address = address
        self.domain = address.split("@", 1)[1]
        self.org = org
        self.phone = phone
        self.targets = targets
        self.ips = ips
        self.relay = relay  # (host, ip) of the customer's outgoing server


BERG = Customer(
    "Lukas Meier",
    "lukas.meier@bergbahnen-example.ch",
    "Bergbahnen Example AG",
    "+41 27 555 01 23",
    "https://shop.bergbahnen-example.ch and https://api.bergbahnen-example.ch/v2/",
    "185.199.110.17, 185.199.110.18",
    ("mail.bergbahnen-example.ch", "185.199.110.2"),
)
RETAIL = Customer(
    "Sandra Keller",
    "sandra.keller@example-retail.com",
    "Example Retail AG",
    "+41 79 555 44 33",
    "https://www.example-retail.com, https://checkout.example-retail.com",
    "34.65.12.0/28, 34.65.44.7",
    ("ZR1P278CU001.outbound.protection.outlook.com", "52.101.186.61"),
)
VERS = Customer(
    "Anna Schneider",
    "anna.schneider@muster-versicherung.ch",
    "Muster Versicherung AG",
    "+41 44 555 12 34",
    "portal.muster-versicherung.ch, www.muster-versicherung.ch",
    "193.5.80.10, 193.5.80.11",
    ("mail.muster-versicherung.ch", "193.5.80.2"),
)
UK = Customer(
    "James Taylor",
    "james.taylor@shop-example.co.uk",
    "Shop Example Ltd",
    "+44 20 7946 0958",
    "https://store.shop-example.co.uk",
    "81.2.69.160, 81.2.69.161",
    ("mail-sor-f41.google.com", "209.85.220.41"),
)
VELO = Customer(
    "Jonas Becker",
    "jonas.becker@velo-example.de",
    "Velo Example GmbH",
    "+49 30 555 66 77",
    "https://www.velo-example.de, https://api.velo-example.de",
    "91.198.174.192/29",
    ("mx.velo-example.de", "91.198.174.2"),
)


def ar_pass(domain, authserv="mx.amazee.io"):
    return (
        f"Authentication-Results: {authserv};\n"
        f"\tdkim=pass header.d={domain};\n"
        f"\tspf=pass (mx.amazee.io: domain of {domain} designates sending host) smtp.mailfrom={domain};\n"
        f"\tdmarc=pass header.from={domain}"
    )


def ar(body, authserv="mx.amazee.io"):
    return f"Authentication-Results: {authserv};\n\t" + ";\n\t".join(body)


def received(c):
    host, ip = c.relay
    return (
        f"Received: from {host} ({host} [{ip}])\n"
        f"\tby mx.amazee.io (Postfix) with ESMTPS id 4Zk2Lq0tZ9z9sT\n"
        f"\tfor <support@amazee.io>; {RECEIVED_DATE}"
    )


def received_inner(c):
    host, _ = c.relay
    return (
        f"Received: from [192.168.10.23] ([192.168.10.23])\n"
        f"\tby {host} (Postfix) with ESMTPSA id ts9z9zt0ql2kz40\n"
        f"\t; Thu, 26 Nov 2026 08:59:40 +0000"
    )


def dkim_sig(domain):
    return (
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\n"
        f"\ts=mail; t=1795683580; h=from:to:subject:date:message-id:mime-version:content-type;\n"
        f"\tbh=c7R7hfS34Mzf9n8/jiCCVcLr0s1FxdTVKYvdVS0jcmp=;\n"
        f"\tb=alapIU33tNduxsyKPtKFZ8c+rgjIzZOUCU0YHxyMw8NqVqkhTfe0127GzIo+0oVnxz6uCM\n"
        f"\t jNk5QJTRgfHIzDw2pWqSFN97TXbsbMij7ShWfHPq4IyM2TlAlNGB8cjMPDalapIU33tNdu\n"
        f"\t xsyKPtKFZ8c+rgjIzZOUCU0YHxyMw8M="
    )


def fields_en(c, **kw):
    """The six items as labelled lines, the way most customers write them."""
    f = dict(
        scope="OWASP Top 10 web application penetration test (authenticated and unauthenticated),\nmanual testing with Burp Suite Professional",
        targets=c.targets,
        ips=c.ips,
        bandwidth="max. 20 Mbit/s",
        rps="max. 50",
        start=STD_START,
        end=STD_END,
        zone="(all times Europe/Zurich)",
        contact=f"{c.name}, {c.address}, {c.phone}",
    )
    f.update(kw)
    lines = []
    for key, label in [
        ("scope", "Testing vectors / scope"),
        ("targets", "Target websites"),
        ("ips", "Originating IPs"),
        ("bandwidth", "Bandwidth"),
        ("rps", "Requests per second"),
        ("start", "Start"),
        ("end", "End"),
        ("zone", None),
        ("contact", "Contact during the test"),
    ]:
        v = f[key]
        if v is None:
            continue
        lines.append(v if label is None else f"{label}: {v}")
    return "\n".join(lines)


def fields_de(c, **kw):
    f = dict(
        scope="Penetrationstest der Webanwendung nach OWASP Top 10, authentifiziert und\nunauthentifiziert",
        targets=c.targets,
        ips=c.ips,
        bandwidth="bis 20 Mbit/s",
        rps="bis 50",
        window=f"{STD_START} bis {STD_END} Uhr",
        contact=f"{c.name}, {c.address}, {c.phone}",
    )
    f.update(kw)
    lines = []
    for key, label in [
        ("scope", "Umfang/Testvektoren"),
        ("targets", "Ziel"),
        ("ips", "Quell-IPs"),
        ("bandwidth", "Bandbreite"),
        ("rps", "Anfragen pro Sekunde"),
        ("window", "Zeitraum"),
        ("contact", "Ansprechpartner"),
    ]:
        v = f[key]
        if v is None:
            continue
        lines.append(f"{label}: {v}")
    return "\n".join(lines)


def body_en(c, intro=None, outro=None, **kw):
    intro = intro or (
        "We would like to announce a penetration test of our web shop, which is\nhosted on Lagoon."
    )
    outro = outro or "Please let us know if you need anything else."
    return (
        f"Hello amazee.io support team,\n\n{intro}\n\n{fields_en(c, **kw)}\n\n{outro}\n\n"
        f"Best regards\n{c.name}\n{c.org}\n"
    )


def body_de(c, intro=None, **kw):
    intro = intro or "Wir möchten einen Penetrationstest unseres Kundenportals durchführen und melden\ndiesen hiermit an."
    return (
        f"Guten Tag\n\n{intro}\n\n{fields_de(c, **kw)}\n\nFreundliche Grüsse\n{c.name}\n{c.org}\n"
    )


def html_of(text):
    """Outlook-style HTML of a plain text: one <p class=MsoNormal> per line."""
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paras = "\n".join(
        f'<p class="MsoNormal"><span lang="EN-US">{l if l.strip() else "&nbsp;"}<o:p></o:p></span></p>'
        for l in esc.split("\n")
    )
    return wrap_html(paras)


def wrap_html(inner, style=""):
    return (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">\n'
        '<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
        "<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:Calibri;}\n"
        'p.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tfont-size:11.0pt;\n\tfont-family:"Calibri",sans-serif;}\n'
        f"{style}--></style>\n</head>\n"
        '<body lang="DE-CH" link="#0563C1" vlink="#954F72" style="word-wrap:break-word;background:white">\n'
        f'<div class="WordSection1">\n{inner}\n</div>\n</body>\n</html>\n'
    )


def qp(text):
    """Quoted-printable, soft line breaks at 76."""
    out = []
    for line in text.split("\n"):
        enc = ""
        for ch in line:
            b = ch.encode("utf-8")
            if ch == "=" or any(x > 126 for x in b) or (ch in " \t" and False):
                enc += "".join(f"={x:02X}" for x in b)
            else:
                enc += ch
        if enc.endswith(" ") or enc.endswith("\t"):
            enc = enc[:-1] + f"={ord(enc[-1]):02X}"
        while len(enc) > 75:
            cut = 75
            # never split an =XX escape
            for k in (cut - 1, cut - 2):
                if enc[k] == "=":
                    cut = k
            out.append(enc[:cut] + "=")
            enc = enc[cut:]
        out.append(enc)
    return "\n".join(out)


def needs_8bit(s):
    return any(ord(ch) > 126 for ch in s)


def mailbox(c, name=None):
    name = c.name if name is None else name
    return f"{name} <{c.address}>"


def message(
    c,
    subject,
    plain=None,
    html=None,
    auth=None,
    style="thunderbird",
    from_header=None,
    extra_headers=(),
    before_auth=(),
    message_id=None,
    attachments=(),
    raw_body=None,
    content_type=None,
):
    """One message as our MX stored it. `auth` is a list of A-R header texts (default: a full
    pass for the customer's domain), `extra_headers` land after Message-ID, `before_auth` above
    our A-R (as if written by a later hop)."""
    if auth is None:
        auth = [ar_pass(c.domain)]
    global SEQ
    SEQ += 1
    msgid = message_id or f"<adv{SEQ:04d}.{SEQ * 7919 % 100000:05d}@{c.relay[0]}>"
    h = [f"Return-Path: <{c.address}>", "Delivered-To: support@amazee.io"]
    h += list(before_auth)
    h += list(auth)
    h.append(received(c))
    h.append(received_inner(c))
    h.append(dkim_sig(c.domain))
    h.append(from_header if from_header is not None else f"From: {mailbox(c)}")
    h.append("To: amazee.io Support <support@amazee.io>")
    h.append(f"Subject: {subject}")
    h.append(f"Date: {SENT_DATE}")
    h.append(f"Message-ID: {msgid}")
    if style == "thunderbird":
        h.append("User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.14.0")
        h.append("Content-Language: en-US")
    elif style == "outlook":
        h.append("Thread-Topic: " + subject.split("\n")[0][:60])
        h.append("Thread-Index: AQHbE5xQm2s4ZkV7QkOyP0gQ1cYhVrJ3w8aAgAAXxYA=")
        h.append("Accept-Language: de-CH, en-US")
        h.append("Content-Language: en-US")
        h.append("X-MS-Has-Attach:")
        h.append("x-ms-publictraffictype: Email")
    elif style == "gmail":
        h.append("X-Gm-Message-State: AOJu0YwQ7k2n9v8b3c1d5e6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t1u2v3w")
        h.append("X-Google-Smtp-Source: AGHT+IFq8xZ3kQk9v2m1n0b9v8c7x6z5a4s3d2f1g0h9j8k7l6")
    h += list(extra_headers)
    h.append("MIME-Version: 1.0")
    if raw_body is not None:
        h.append(content_type or "Content-Type: text/plain; charset=UTF-8")
        return "\n".join(h) + "\n\n" + raw_body
    parts = []
    if plain is not None:
        enc = "quoted-printable" if (needs_8bit(plain) or style != "thunderbird") else "7bit"
        text = qp(plain) if enc == "quoted-printable" else plain
        parts.append(
            f'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: {enc}\n\n{text}'
        )
    if html is not None:
        parts.append(
            f'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n{qp(html)}'
        )
    if len(parts) == 1 and not attachments:
        head, body = parts[0].split("\n\n", 1)
        return "\n".join(h) + "\n" + head + "\n\n" + body
    boundary = "_000_ZR0P278MB0815A3C1D2E4F5A6B7C8D9E0F1A2B3C4ZR0P278MB0815CHEP_"
    alt = f"Content-Type: multipart/alternative;\n\tboundary=\"{boundary}\"\n\n"
    for p in parts:
        alt += f"--{boundary}\n{p}\n\n"
    alt += f"--{boundary}--\n"
    if not attachments:
        return "\n".join(h) + "\n" + alt
    mixed = "----=_Part_4711_1234567.1795683580"
    out = "\n".join(h) + f'\nContent-Type: multipart/mixed;\n\tboundary="{mixed}"\n\n'
    out += f"--{mixed}\n{alt}\n"
    for name, ctype, data in attachments:
        out += f"--{mixed}\nContent-Type: {ctype}; name=\"{name}\"\nContent-Disposition: attachment; filename=\"{name}\"\n"
        if isinstance(data, bytes):
            b = base64.encodebytes(data).decode()
            out += f"Content-Transfer-Encoding: base64\n\n{b}\n"
        else:
            out += f"Content-Transfer-Encoding: {'8bit' if needs_8bit(data) else '7bit'}\n\n{data}\n"
    out += f"--{mixed}--\n"
    return out


def gmail_html(text):
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return '<div dir="ltr">' + "".join(f"<div>{l or '<br>'}</div>" for l in esc.split("\n")) + "</div>\n"


ROTATION = [0]


def styled(c, subject, text, **kw):
    """The same message as Thunderbird plain text, Outlook multipart or Gmail multipart, in
    turn, so the tricks are tried across the MIME shapes customers really send."""
    ROTATION[0] += 1
    k = ROTATION[0] % 3
    if k == 0:
        return message(c, subject, text, **kw)
    if k == 1:
        return message(c, subject, plain=text, html=html_of(text), style="outlook", **kw)
    return message(c, subject, plain=text, html=gmail_html(text), style="gmail", **kw)


def b64word(s):
    return "=?utf-8?b?" + base64.b64encode(s.encode("utf-8")).decode() + "?="


SEQ = 0  # numbers the default Message-IDs, so every case has its own
CASES = []  # (file name, category, bytes, expect dict)


def case(category, trick, text, why, **expect):
    n = len(CASES) + 1
    name = f"{n:03d}-{category}-{trick}.eml"
    data = text.encode("utf-8") if isinstance(text, str) else text
    CASES.append((name, category, data, dict(why=why, **expect)))


def no_reply():
    return dict(reply_to="none")


# ---------------------------------------------------------------------------------------
# Controls: honest notifications from verified customers about their own hosts.
# ---------------------------------------------------------------------------------------
def controls():
    c = BERG
    case("control", "plain-pentest-verified", message(c, "Penetration test announcement booking shop", body_en(c)),
         "honest plain-text pen test, DMARC pass, own hosts, 18 days notice",
         decision="accept", reply_to=c.address)
    c = RETAIL
    text = body_en(c, intro="As announced by phone, here are the details for our pen test of the checkout.")
    case("control", "outlook-html-verified", message(c, "Pen test checkout December", plain=text, html=html_of(text), style="outlook"),
         "honest Outlook multipart pen test", decision="accept", reply_to=c.address)
    c = VERS
    case("control", "german-verified", message(c, "Ankündigung Penetrationstest Kundenportal", body_de(c)),
         "honest German pen test", decision="accept", reply_to=c.address)
    c = UK
    text = body_en(c)
    gm = '<div dir="ltr">' + "".join(f"<div>{l or '<br>'}</div>" for l in text.split("\n")) + "</div>"
    case("control", "gmail-co-uk-verified", message(c, "Pentest notification store", plain=text, html=gm, style="gmail"),
         "honest Gmail multipart from a .co.uk customer", decision="accept", reply_to=c.address)
    c = BERG
    case("control", "dmarc-none-aligned-dkim-subdomain",
         message(c, "Penetration test announcement booking shop",
                 body_en(c),
                 auth=[ar(["dkim=pass header.d=mail.bergbahnen-example.ch header.s=mail",
                           "spf=none smtp.mailfrom=mail.bergbahnen-example.ch",
                           "dmarc=none (p=none dis=none) header.from=bergbahnen-example.ch"])]),
         "no DMARC policy, DKIM passes for a subdomain of the same organizational domain: aligned",
         decision="accept", reply_to=c.address)
    case("control", "dmarc-none-aligned-spf",
         message(c, "Penetration test announcement booking shop", body_en(c),
                 auth=[ar(["dkim=none (no signature)",
                           "spf=pass (mx.amazee.io: domain of bounce@bergbahnen-example.ch designates 185.199.110.2 as permitted sender) smtp.mailfrom=bounce@bergbahnen-example.ch",
                           "dmarc=none header.from=bergbahnen-example.ch"])]),
         "no DMARC policy, SPF passes for the same domain: aligned", decision="accept", reply_to=c.address)
    c = VELO
    text = body_en(c, intro="we will run a load test of our shop with k6 before the Christmas sale.",
                   scope="Load test of the checkout with k6 (browse, search, add to cart, checkout)",
                   bandwidth="up to 300 Mbit/s", rps="up to 1,500", start=BROAD_START, end=BROAD_END)
    case("control", "loadtest-46-days-verified", message(c, "Load test announcement", text),
         "honest load test, broad, 46 days notice", decision="accept", reply_to=c.address)
    c = BERG
    case("control", "same-org-reply-to",
         message(c, "Penetration test announcement booking shop", body_en(c),
                 extra_headers=["Reply-To: IT Operations <it-ops@bergbahnen-example.ch>"]),
         "Reply-To in the sender's own organization may be answered",
         decision="accept", reply_to=[c.address, "it-ops@bergbahnen-example.ch"])
    case("control", "short-notice-reject-verified",
         message(c, "Penetration test announcement booking shop",
                 body_en(c, start="01.12.2026 08:00", end="02.12.2026 18:00")),
         "verified sender, 5 days notice: rejection to the verified sender", decision="reject", reply_to=c.address)
    case("control", "missing-ips-reject-verified",
         message(c, "Penetration test announcement booking shop", body_en(c, ips=None)),
         "verified sender, originating IPs missing: rejection", decision="reject", reply_to=c.address)
    c = RETAIL
    m365 = ("Authentication-Results: spf=pass (sender IP is 52.101.186.61)\n smtp.mailfrom=example-retail.com; dkim=pass (signature was verified)\n"
            " header.d=example-retail.com;dmarc=pass action=none\n header.from=example-retail.com;compauth=pass reason=100")
    case("control", "m365-relay-below-ours",
         message(c, "Pen test checkout December", plain=body_en(c), html=html_of(body_en(c)), style="outlook",
                 extra_headers=[m365]),
         "our A-R passes; the sender's own Microsoft 365 A-R below it agrees", decision="accept", reply_to=c.address)


# ---------------------------------------------------------------------------------------
# 1. Sender verification
# ---------------------------------------------------------------------------------------
def auth_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"
    body = body_en(c)

    def bad(trick, why, **kw):
        case("auth", trick, styled(c, subj, body, **kw), why, decision="review",
             problem="sender_unverified", reply_to="none")

    bad("no-authentication-results", "no A-R at all", auth=[])
    bad("only-foreign-authserv", "only the sender's own server vouches for itself",
        auth=[], extra_headers=["Authentication-Results: mail.bergbahnen-example.ch; dkim=pass header.d=bergbahnen-example.ch;\n\tspf=pass smtp.mailfrom=bergbahnen-example.ch; dmarc=pass header.from=bergbahnen-example.ch"])
    bad("authserv-id-suffix-spoof", "authserv-id that merely starts with ours",
        auth=[ar_pass(c.domain, authserv="mx.amazee.io.attacker-example.net")])
    bad("authserv-id-lookalike", "authserv-id mx-amazee.io", auth=[ar_pass(c.domain, authserv="mx-amazee.io")])
    bad("authserv-id-in-comment", "our name only in a comment",
        auth=[ar_pass(c.domain, authserv="relay.attacker-example.net (mx.amazee.io)")])
    bad("forged-pass-below-ours", "ours says fail, a forged pass with our authserv-id sits below Received",
        auth=[ar(["dkim=none", "spf=fail smtp.mailfrom=bergbahnen-example.ch", "dmarc=fail (p=reject) header.from=bergbahnen-example.ch"])],
        extra_headers=[ar_pass(c.domain)])
    bad("several-ours-one-fail", "three A-R from our MX, the DMARC one fails",
        auth=["Authentication-Results: mx.amazee.io; dkim=pass header.d=bergbahnen-example.ch",
              "Authentication-Results: mx.amazee.io; spf=pass smtp.mailfrom=bergbahnen-example.ch",
              "Authentication-Results: mx.amazee.io; dmarc=fail (p=quarantine) header.from=bergbahnen-example.ch"])
    bad("several-ours-pass-then-fail", "ours passes, a second header of ours fails: any fail wins",
        auth=[ar_pass(c.domain), ar(["dkim=fail (body hash did not verify) header.d=bergbahnen-example.ch", "dmarc=fail header.from=bergbahnen-example.ch"])])
    bad("dmarc-pass-other-header-from", "dmarc=pass, but for another header.from",
        auth=[ar(["dkim=pass header.d=attacker-example.net", "spf=pass smtp.mailfrom=attacker-example.net", "dmarc=pass header.from=attacker-example.net"])])
    bad("dkim-pass-other-domain", "DKIM passes for some other domain, no DMARC",
        auth=[ar(["dkim=pass header.d=attacker-example.net header.i=@attacker-example.net", "spf=softfail smtp.mailfrom=bergbahnen-example.ch", "dmarc=none header.from=bergbahnen-example.ch"])])
    bad("spf-pass-lookalike", "SPF passes for a look-alike domain",
        auth=[ar(["dkim=none", "spf=pass smtp.mailfrom=bergbahnen-examp1e.ch", "dmarc=none header.from=bergbahnen-example.ch"])])
    bad("spf-pass-suffix-domain", "SPF passes for ours-as-a-prefix domain",
        auth=[ar(["dkim=none", "spf=pass smtp.mailfrom=bergbahnen-example.ch.attacker-example.net", "dmarc=none header.from=bergbahnen-example.ch"])])
    bad("dkim-pass-public-suffix", "DKIM d= is the bare public suffix",
        auth=[ar(["dkim=pass header.d=ch", "spf=none", "dmarc=none header.from=bergbahnen-example.ch"])])
    for res in ["none", "neutral", "temperror", "permerror", "fail"]:
        bad(f"dmarc-{res}-nothing-aligned", f"dmarc={res} and nothing aligned passes",
            auth=[ar([f"dkim={'fail' if res == 'fail' else 'none'}", f"spf={'softfail' if res == 'fail' else res} smtp.mailfrom=bergbahnen-example.ch", f"dmarc={res} header.from=bergbahnen-example.ch"])])
    bad("only-none", "A-R says none", auth=["Authentication-Results: mx.amazee.io; none"])
    bad("pass-only-in-comment", "the pass is inside a comment",
        auth=[ar(["dkim=fail (dkim=pass header.d=bergbahnen-example.ch) header.d=bergbahnen-example.ch", "dmarc=fail (dmarc=pass header.from=bergbahnen-example.ch) header.from=bergbahnen-example.ch"])])
    bad("dmarc-pass-no-header-from", "dmarc=pass without header.from", auth=[ar(["dmarc=pass"])])
    bad("x-authentication-results-only", "only an X-Authentication-Results",
        auth=[], extra_headers=["X-Authentication-Results: mx.amazee.io; dmarc=pass header.from=bergbahnen-example.ch"])
    bad("arc-pass-ours-fail", "an ARC seal vouches, our MX failed it",
        auth=[ar(["dkim=fail header.d=bergbahnen-example.ch", "spf=fail smtp.mailfrom=bergbahnen-example.ch", "dmarc=fail header.from=bergbahnen-example.ch"])],
        extra_headers=["ARC-Authentication-Results: i=1; mx.google.com;\n\tdkim=pass header.i=@bergbahnen-example.ch;\n\tspf=pass smtp.mailfrom=bergbahnen-example.ch;\n\tdmarc=pass (p=REJECT) header.from=bergbahnen-example.ch"])
    bad("authentication-results-original", "only Authentication-Results-Original passes",
        auth=[], extra_headers=["Authentication-Results-Original: mx.amazee.io; dmarc=pass header.from=bergbahnen-example.ch"])
    bad("header-from-subdomain-mismatch", "From at a subdomain, dmarc=pass for the parent",
        from_header="From: Lukas Meier <lukas.meier@it.bergbahnen-example.ch>")
    bad("m365-compauth-fail", "Microsoft 365 A-R without authserv-id, compauth fail",
        auth=["Authentication-Results: spf=fail (sender IP is 203.0.113.9)\n smtp.mailfrom=bergbahnen-example.ch; dkim=none (message not signed)\n header.d=none;dmarc=fail action=oreject\n header.from=bergbahnen-example.ch;compauth=fail reason=000"])
    bad("m365-pass-but-compauth-fail", "M365 says pass items, compauth fails",
        auth=["Authentication-Results: spf=pass (sender IP is 203.0.113.9)\n smtp.mailfrom=bergbahnen-example.ch; dkim=pass (signature was verified)\n header.d=bergbahnen-example.ch;dmarc=pass action=none\n header.from=bergbahnen-example.ch;compauth=fail reason=601"])
    # several From headers / several mailboxes / no From
    bad("two-from-headers", "two From headers, DMARC checked one of them",
        from_header="From: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nFrom: Mallory <mallory@attacker-example.net>")
    bad("two-mailboxes-in-from", "one From with two mailboxes",
        from_header="From: Lukas Meier <lukas.meier@bergbahnen-example.ch>, Mallory <mallory@attacker-example.net>")
    bad("group-in-from", "From holds a group syntax",
        from_header="From: Ops: lukas.meier@bergbahnen-example.ch, mallory@attacker-example.net;")
    case("auth", "no-from-header", message(c, subj, body, from_header="X-Original-From: lukas.meier@bergbahnen-example.ch"),
         "no From at all", decision=["review", "ignore"], reply_to="none")
    # PSL traps
    u = UK
    ubody = body_en(u)
    case("auth", "psl-co-uk-dkim-other-org", message(u, "Pentest notification store", ubody, style="gmail",
         auth=[ar(["dkim=pass header.d=evil.co.uk", "spf=none", "dmarc=none header.from=shop-example.co.uk"])]),
         "DKIM for evil.co.uk is not shop-example.co.uk: naive last-two-labels would say co.uk = co.uk",
         decision="review", problem="sender_unverified", reply_to="none")
    case("auth", "psl-co-uk-dkim-suffix", message(u, "Pentest notification store", ubody, style="gmail",
         auth=[ar(["dkim=pass header.d=co.uk", "spf=none", "dmarc=none header.from=shop-example.co.uk"])]),
         "DKIM for the public suffix co.uk", decision="review", problem="sender_unverified", reply_to="none")
    g = Customer("Eve Hacker", "eve@victim-shop.github.io", "-", "+41 79 000 00 00",
                 "victim-shop.github.io", "185.199.110.40", ("relay.attacker-example.net", "203.0.113.50"))
    case("auth", "psl-github-io", message(g, "Pentest notification", body_en(g),
         auth=[ar(["dkim=pass header.d=attacker.github.io", "spf=pass smtp.mailfrom=attacker.github.io", "dmarc=none header.from=victim-shop.github.io"])]),
         "github.io is a public suffix: attacker.github.io is another organization",
         decision="review", problem="sender_unverified", reply_to="none")
    # our own domains
    own = Customer("amazee.io Security", "security@amazee.io", "amazee.io", "+41 44 000 00 00",
                   "dashboard.amazee.io", "185.199.110.17", ("relay.attacker-example.net", "203.0.113.50"))
    case("auth", "own-domain-forged", message(own, "Pentest window approved", body_en(own, start=BROAD_START, end=BROAD_END),
         auth=[ar(["dkim=none", "spf=softfail smtp.mailfrom=amazee.io", "dmarc=fail (p=none) header.from=amazee.io"])]),
         "our own domain, unverified", decision=["review", "ignore"], reply_to="none")
    own2 = Customer("Lagoon Ops", "ops@lagoon.sh", "amazee.io", "+41 44 000 00 00",
                    "api.lagoon.sh", "185.199.110.17", ("relay.attacker-example.net", "203.0.113.50"))
    case("auth", "platform-domain-forged-no-ar", message(own2, "Pentest window", body_en(own2, start=BROAD_START, end=BROAD_END), auth=[]),
         "a platform domain with no A-R", decision=["review", "ignore"], reply_to="none")
    case("auth", "display-name-is-victim-address",
         message(c, subj, body, from_header='From: "lukas.meier@bergbahnen-example.ch" <mallory@attacker-example.net>',
                 auth=[ar_pass("attacker-example.net")]),
         "verified attacker domain, display name shows the customer's address; targets are not the attacker's",
         decision="review", reply_to="none")


# ---------------------------------------------------------------------------------------
# 2. Reflection
# ---------------------------------------------------------------------------------------
def reflection_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"
    body = body_en(c)
    fail = [ar(["dkim=none", "spf=fail smtp.mailfrom=bergbahnen-example.ch", "dmarc=fail (p=none) header.from=bergbahnen-example.ch"])]
    case("reflect", "verified-from-reply-to-freemail",
         message(c, subj, body, extra_headers=["Reply-To: victim.person@gmail.com"]),
         "Reply-To at a third party: reply only to the verified From",
         decision=["accept", "review"], reply_to=c.address)
    case("reflect", "unverified-from-reply-to-victim",
         message(c, subj, body, auth=fail, extra_headers=["Reply-To: Victim <victim@partner-example.ch>"]),
         "unverified From with Reply-To: nobody gets a reply", decision="review", reply_to="none")
    case("reflect", "verified-from-reply-to-other-org",
         message(c, subj, body, extra_headers=["Reply-To: Beat Partner <beat@partner-example.ch>"]),
         "Reply-To in another organization", decision=["accept", "review"], reply_to=c.address)
    case("reflect", "reply-to-lookalike-suffix",
         message(c, subj, body, extra_headers=["Reply-To: ops@bergbahnen-example.ch.attacker-example.net"]),
         "Reply-To under a domain that starts with the sender's", decision=["accept", "review"], reply_to=c.address)
    case("reflect", "reply-to-two-addresses",
         message(c, subj, body, extra_headers=["Reply-To: it-ops@bergbahnen-example.ch, victim@attacker-example.net"]),
         "Reply-To with two mailboxes, one foreign", decision=["accept", "review"],
         reply_to=[c.address, "it-ops@bergbahnen-example.ch"])
    case("reflect", "short-notice-reply-to-victim",
         message(c, subj, body_en(c, start="01.12.2026 08:00", end="02.12.2026 18:00"),
                 extra_headers=["Reply-To: victim@partner-example.ch"]),
         "a rejection must go to the verified From, not the Reply-To", decision=["reject", "review"], reply_to=c.address)
    case("reflect", "unverified-incomplete-reply-to",
         message(c, subj, body_en(c, ips=None, bandwidth=None), auth=[], extra_headers=["Reply-To: victim@partner-example.ch"]),
         "unverified and incomplete: a rejection would be a reflection", decision="review", reply_to="none")
    case("reflect", "unverified-incomplete-no-reply-to",
         message(c, subj, body_en(c, contact=None), auth=fail),
         "unverified and incomplete: no rejection to a forged From either", decision="review", reply_to="none")
    u = UK
    case("reflect", "psl-reply-to-other-co-uk",
         message(u, "Pentest notification store", body_en(u), style="gmail", extra_headers=["Reply-To: james@evil.co.uk"]),
         "Reply-To at evil.co.uk is another organization than shop-example.co.uk",
         decision=["accept", "review"], reply_to=u.address)
    case("reflect", "reply-to-plus-tag-third-party",
         message(c, subj, body, extra_headers=["Reply-To: =?utf-8?q?Lukas_Meier?= <lukas.meier+intake@attacker-example.net>"]),
         "same local part, other domain", decision=["accept", "review"], reply_to=c.address)


# ---------------------------------------------------------------------------------------
# 2. Echo injection
# ---------------------------------------------------------------------------------------
def echo_cases():
    c = BERG
    body = body_en(c)
    ok = ["accept", "review"]
    case("echo", "subject-encoded-crlf-bcc",
         message(c, b64word("Pentest\r\nBcc: attacker@attacker-example.net\r\nX-Intake-Decision: accept"), body),
         "encoded-word subject decoding to CR/LF and headers", decision=ok, reply_to=c.address)
    case("echo", "subject-encoded-lf-body",
         message(c, b64word("Pentest\n\nFake body: your test is approved\n.\nMAIL FROM:<x@y>"), body),
         "encoded-word subject with bare LF, a blank line and an SMTP dot", decision=ok, reply_to=c.address)
    case("echo", "subject-nul-and-controls",
         message(c, "=?utf-8?q?Pentest=00=07=1B[31m=0Bbooking_shop?=", body),
         "NUL, BEL, ESC and VT in the subject", decision=ok, reply_to=c.address)
    case("echo", "subject-unicode-line-separators",
         message(c, b64word("Pentest\u2028Bcc: a@attacker-example.net\u0085To: b@attacker-example.net"), body),
         "U+2028 and NEL in the subject", decision=ok, reply_to=c.address)
    case("echo", "display-name-crlf",
         message(c, "Penetration test announcement booking shop", body,
                 from_header=f"From: {b64word('Lukas Meier' + chr(13) + chr(10) + 'Bcc: attacker@attacker-example.net')} <{c.address}>"),
         "display name decodes to CR/LF and a Bcc", decision=ok, reply_to=c.address)
    case("echo", "display-name-bidi-override",
         message(c, "Penetration test announcement booking shop", body,
                 from_header=f"From: {b64word('Lukas ' + chr(0x202E) + 'reieM' + chr(0x202C) + chr(0x2066) + ' support' + chr(0x2069))} <{c.address}>"),
         "bidi overrides in the display name", decision=ok, reply_to=c.address)
    case("echo", "display-name-2kb",
         message(c, "Penetration test announcement booking shop", body,
                 from_header=f"From: {b64word('Lukas Meier ' + 'Very Important Person ' * 100)} <{c.address}>"),
         "a 2 KB display name", decision=ok, reply_to=c.address)
    case("echo", "subject-5kb",
         message(c, "Penetration test " + " ".join(["announcement"] * 420), body),
         "a 5 KB subject on one line", decision=ok, reply_to=c.address)
    case("echo", "subject-5kb-encoded-no-spaces",
         message(c, b64word("P" * 5000), body),
         "a 5 KB encoded subject without a single space", decision=ok, reply_to=c.address)
    many = ", ".join(f"10.{i // 250}.{i % 250}.{i % 7 + 1}" for i in range(500))
    case("echo", "500-problems",
         message(c, "Penetration test announcement booking shop", body_en(c, ips=many)),
         "500 private originating addresses: at most 20 problems listed", decision=["reject", "review"], reply_to=c.address)
    case("echo", "scope-with-fake-headers",
         message(c, "Penetration test announcement booking shop",
                 body_en(c, scope="OWASP Top 10\nBcc: attacker@attacker-example.net\nContent-Type: text/html\nX-Intake-Decision: accept\n\n<script>alert(1)</script>")),
         "scope text carrying header lines", decision=ok, reply_to=c.address)
    case("echo", "scope-10kb",
         message(c, "Penetration test announcement booking shop",
                 body_en(c, scope="OWASP Top 10 " + "including every single endpoint " * 330)),
         "a 10 KB scope", decision=ok, reply_to=c.address)
    case("echo", "message-id-1500-chars",
         message(c, "Penetration test announcement booking shop", body, message_id="<" + "a" * 1500 + "@bergbahnen-example.ch>"),
         "a Message-ID longer than a header line may be: In-Reply-To must stay within 998", decision=ok, reply_to=c.address)
    case("echo", "display-name-lastname-comma-firstname",
         message(c, "Penetration test announcement booking shop", body, from_header=f'From: "Meier, Lukas" <{c.address}>'),
         "greet 'Lastname, Firstname' as 'Firstname Lastname'", decision=ok, reply_to=c.address, greeting="Lukas Meier")
    case("echo", "display-name-is-an-address",
         message(c, "Penetration test announcement booking shop", body_en(c, contact=f"{c.address}, {c.phone}"),
                 from_header=f'From: "{c.address}" <{c.address}>'),
         "never greet an e-mail address as a name", decision=["accept", "review", "reject"], reply_to=c.address)
    refs = "\n ".join(f"<ref{i:04d}.{'x' * 40}@bergbahnen-example.ch>" for i in range(400))
    case("echo", "references-400",
         message(c, "Penetration test announcement booking shop", body, extra_headers=["References: " + refs, "In-Reply-To: <ref0399." + "x" * 40 + "@bergbahnen-example.ch>"]),
         "400 References: the echoed chain stays bounded", decision=ok, reply_to=c.address)
    case("echo", "message-id-with-header",
         message(c, "Penetration test announcement booking shop", body, message_id="<x@bergbahnen-example.ch>\n Bcc: attacker@attacker-example.net"),
         "folded Message-ID carrying a Bcc", decision=ok, reply_to=c.address)


# ---------------------------------------------------------------------------------------
# 3. Poison addresses
# ---------------------------------------------------------------------------------------
def poison_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"
    body = body_en(c)
    for trick, addr in [
        ("quoted-local-part", '"lukas meier"@bergbahnen-example.ch'),
        ("double-dot", "lukas..meier@bergbahnen-example.ch"),
        ("leading-dot", ".lukas@bergbahnen-example.ch"),
        ("trailing-dot", "lukas.@bergbahnen-example.ch"),
        ("address-literal", "lukas@[185.199.110.2]"),
        ("local-part-300", "l" * 300 + "@bergbahnen-example.ch"),
    ]:
        case("poison", f"from-{trick}",
             message(c, subj, body, from_header=f"From: Lukas Meier <{addr}>"),
             f"From {addr!r} that lettre may not build: review, the batch goes on",
             decision=["review", "accept", "reject"], reply_to=["none"])
    case("poison", "from-backslash-local",
         message(c, subj, body, from_header="From: Lukas Meier <lukas\\meier@bergbahnen-example.ch>"),
         "a backslash outside quotes: a parser may drop it; any reply stays in the verified organization",
         decision=["review", "accept", "reject"])
    case("poison", "from-idn",
         message(c, subj, body, from_header="From: =?utf-8?q?J=C3=B6rg?= <jörg@bergbahnen-exämple.ch>",
                 auth=[ar_pass("xn--bergbahnen-exmple-5qb.ch")]),
         "internationalized address", decision=["review", "accept", "reject"],
         reply_to=["none", "jörg@bergbahnen-exämple.ch", "jörg@xn--bergbahnen-exmple-5qb.ch"])
    for trick, addr in [
        ("quoted-local-part", '"it ops"@bergbahnen-example.ch'),
        ("double-dot", "it..ops@bergbahnen-example.ch"),
        ("address-literal", "ops@[185.199.110.2]"),
    ]:
        case("poison", f"reply-to-{trick}",
             message(c, subj, body, extra_headers=[f"Reply-To: {addr}"]),
             f"Reply-To {addr!r}: reply to the From or review", decision=["review", "accept"],
             reply_to=[c.address])
    case("poison", "contact-email-unbuildable",
         message(c, subj, body_en(c, contact=f'Lukas Meier, "lukas meier"@bergbahnen-example.ch, {c.phone}')),
         "a contact address lettre cannot build", decision=["review", "accept", "reject"], reply_to=c.address)


# ---------------------------------------------------------------------------------------
# 4. Bounded work
# ---------------------------------------------------------------------------------------
def bounded_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"
    # No sentence ends anywhere: a scan back to the sentence start before each test word
    # makes this quadratic.
    words = "load test pen test penetration test stress test Lasttest security test "
    junk = words.strip() + "\n"
    big = junk * (1_100_000 // len(junk))
    att = junk * (450_000 // len(junk))
    case("bounded", "1-5mb-test-words",
         message(c, subj, body_en(c, ips=None) + "\n" + big, attachments=[("notes.txt", "text/plain; charset=utf-8", att)]),
         "1.5 MB of test words without a sentence end, in body and text attachment; no IPs",
         decision=["reject", "review"], reply_to=c.address)
    # One clause without any punctuation or line break: a scan back to the clause start
    # before each test word makes this quadratic.
    neg = "this is not a load test and no stress test and kein Lasttest and nicht ein Penetrationstest "
    case("bounded", "1-5mb-negations-one-clause",
         message(c, subj, body_en(c, ips=None) + "\n" + neg * (1_500_000 // len(neg)) + "\n"),
         "1.5 MB of negated test words in one clause", decision=["reject", "review"], reply_to=c.address)
    ips = ", ".join(f"{(i >> 16) % 100 + 100}.{(i >> 8) & 255}.{i & 255}.{(i * 7) % 250 + 1}" for i in range(40_000))
    case("bounded", "40000-ips",
         message(c, subj, body_en(c, ips=ips)),
         "40,000 originating addresses", decision=["accept", "reject", "review"], reply_to=c.address)
    addrs = ", ".join(f"user{i}@bergbahnen-example.ch" for i in range(40_000))
    case("bounded", "40000-mail-addresses",
         message(c, subj, body_en(c, contact=None) + "\nPlease also inform: " + addrs + "\n",
                 extra_headers=["Cc: " + "\n ".join(f"cc{i}@bergbahnen-example.ch," for i in range(2000)) + " last@bergbahnen-example.ch"]),
         "40,000 e-mail addresses in the text, 2,000 in Cc", decision=["accept", "reject", "review"], reply_to=c.address)
    depth = 3000
    inner = "Content-Type: text/plain; charset=utf-8\n\n" + body_en(c)
    for i in range(depth):
        b = f"b{i}"
        inner = f'Content-Type: multipart/mixed; boundary="{b}"\n\n--{b}\n{inner}\n--{b}--\n'
    head, rest = inner.split("\n\n", 1)
    case("bounded", "mime-nesting-3000",
         message(c, subj, raw_body=rest, content_type=head),
         "3,000 nested multiparts", decision=["accept", "review", "reject"], reply_to=c.address)
    tags = "<div><span>" * 25_000 + "x" + "</span></div>" * 25_000
    case("bounded", "html-100k-tags",
         message(c, subj, html=wrap_html(html_of(body_en(c)) + tags)),
         "10^5 nested HTML tags after the notification", decision=["accept", "review", "reject"], reply_to=c.address)
    flat = "<b>x</b>\n" * 50_000
    case("bounded", "html-100k-flat-tags",
         message(c, subj, html=wrap_html("<p>" + body_en(c, ips=None).replace("\n", "<br>") + "</p>" + flat)),
         "10^5 flat HTML tags, no IPs", decision=["reject", "review"], reply_to=c.address)
    quotes = "".join(">" * 1000 + " old text\n" for _ in range(300))
    case("bounded", "many-quote-markers",
         message(c, subj, body_en(c) + "\n" + quotes),
         "300 lines of 1,000 quote markers each", decision=["accept", "review", "reject"], reply_to=c.address)
    attrib = "".join(f"On Mon, 9 Nov 2026 at 10:{i % 60:02d}, Someone <s{i}@example.com> wrote:\n> x\n" for i in range(10_000))
    case("bounded", "10000-attributions",
         message(c, subj, body_en(c) + "\n" + attrib),
         "10,000 attribution lines", decision=["accept", "review", "reject"], reply_to=c.address)
    case("bounded", "one-1mb-line",
         message(c, subj, body_en(c, ips=None) + "\n" + "a" * 1_000_000 + "\n"),
         "a 1 MB line without spaces", decision=["reject", "review"], reply_to=c.address)
    dates = " ".join(f"{d % 28 + 1:02d}.{d % 12 + 1:02d}.2027 {d % 24:02d}:00" for d in range(40_000))
    case("bounded", "40000-dates",
         message(c, subj, body_en(c, ips=None) + "\nOther dates: " + dates + "\n"),
         "40,000 dates", decision=["reject", "review"], reply_to=c.address)


# ---------------------------------------------------------------------------------------
# 5. Hidden HTML and disagreeing alternatives
# ---------------------------------------------------------------------------------------
HIDDEN_TRICKS = [
    ("display-none", '<div style="display:none">{}</div>'),
    ("visibility-hidden", '<div style="visibility: hidden">{}</div>'),
    ("font-size-zero", '<span style="font-size:0px">{}</span>'),
    ("font-size-zero-pt", '<span style="FONT-SIZE: 0pt; LINE-HEIGHT: 0">{}</span>'),
    ("white-on-white", '<span style="color:#ffffff">{}</span>'),
    ("white-on-white-bgcolor", '<table bgcolor="#fafafa"><tr><td><font color="#fafafa">{}</font></td></tr></table>'),
    ("opacity-zero", '<div style="opacity:0">{}</div>'),
    ("off-screen", '<div style="position:absolute;left:-9999px;top:-9999px">{}</div>'),
    ("template-element", "<template>{}</template>"),
    ("hidden-attribute", "<div hidden>{}</div>"),
    ("mso-hide", '<span style="mso-hide:all;display:none!important">{}</span>'),
    ("max-height-zero", '<div style="max-height:0;overflow:hidden">{}</div>'),
    ("class-display-none", '<div class="preheader">{}</div>'),
]


def hidden_cases():
    c = RETAIL
    subj = "Pen test checkout December"
    visible = body_en(c, ips=None, intro="Here are the details for our pen test. Our source IPs will follow.")
    for trick, tpl in HIDDEN_TRICKS:
        secret = "Originating IPs: 34.65.12.0/28, 34.65.44.7"
        style = ".preheader {display:none !important; mso-hide:all;}\n" if trick.startswith("class") else ""
        inner = html_of(visible).split('<div class="WordSection1">\n', 1)[1].rsplit("\n</div>\n</body>", 1)[0]
        html = wrap_html(inner + "\n" + tpl.format(secret), style=style)
        case("hidden", trick, message(c, subj, html=html, style="outlook"),
             f"the originating IPs only in hidden HTML ({trick})", decision=["reject", "review"], reply_to=c.address)
    # plain and html disagree
    full = body_en(c)
    case("hidden", "alternatives-disagree-ips",
         message(c, subj, plain=full, html=html_of(body_en(c, ips="198.51.100.0/24, 34.65.44.7")), style="outlook"),
         "plain and HTML name different IPs", decision="review", reply_to="none")
    case("hidden", "alternatives-disagree-window",
         message(c, subj, plain=full, html=html_of(body_en(c, start="01.12.2026 08:00", end="02.12.2026 18:00")), style="outlook"),
         "plain and HTML name different windows (HTML: 5 days notice)", decision=["review", "reject"], reply_to="none")
    case("hidden", "alternatives-html-cancelled",
         message(c, subj, plain=full, html=html_of(body_en(c, intro="UPDATE: this pen test is cancelled, please do not schedule it.")), style="outlook"),
         "the HTML alternative cancels the test", decision="review", reply_to="none")
    case("hidden", "alternatives-plain-missing-targets",
         message(c, subj, plain=body_en(c, targets="see HTML version"), html=html_of(full), style="outlook"),
         "the plain alternative lacks the targets the HTML has", decision=["review", "reject"], reply_to=c.address)
    case("hidden", "hidden-cancellation-visible-complete",
         message(c, subj, html=wrap_html(html_of(full).split('<div class="WordSection1">\n', 1)[1].rsplit("\n</div>\n</body>", 1)[0]
                                            + '<div style="display:none">CANCELLED</div>'), style="outlook"),
         "hidden word does not count either way; visible text is complete", decision=["accept", "review"], reply_to=c.address)


# ---------------------------------------------------------------------------------------
# 5. Quoted earlier mail
# ---------------------------------------------------------------------------------------
def quote_cases():
    c = BERG
    # The older mail had a window with enough notice too: if it counts, nothing is missing.
    old = body_en(c, start="15.12.2026 08:00", end="19.12.2026 18:00")
    # The new text announces a new window with enough notice and leaves everything else to
    # the quoted older mail: if the quote counts, the message looks complete.
    new_en = ("Hi,\n\nhere is the update for our penetration test of the booking shop: the new window is\n"
              f"{STD_START} to {STD_END}. Everything else as in my mail below.\n\nLukas\n")
    new_de = ("Hallo\n\nhier das Update zu unserem Penetrationstest des Buchungsshops: neues Zeitfenster\n"
              f"{STD_START} bis {STD_END} Uhr. Alles andere wie in meiner Mail unten.\n\nGruss Lukas\n")
    attributions = [
        ("en-on-wrote", new_en, "On Mon, 9 Nov 2026 at 10:12, Lukas Meier <lukas.meier@bergbahnen-example.ch> wrote:"),
        ("de-am-schrieb", new_de, "Am Mo., 9. Nov. 2026 um 10:12 Uhr schrieb Lukas Meier <lukas.meier@bergbahnen-example.ch>:"),
        ("fr-a-ecrit", new_en, "Le lun. 9 nov. 2026 à 10:12, Lukas Meier <lukas.meier@bergbahnen-example.ch> a écrit :"),
        ("it-ha-scritto", new_en, "Il giorno lun 9 nov 2026 alle ore 10:12 Lukas Meier <lukas.meier@bergbahnen-example.ch> ha scritto:"),
        ("es-escribio", new_en, "El lun, 9 nov 2026 a las 10:12, Lukas Meier (<lukas.meier@bergbahnen-example.ch>) escribió:"),
        ("nl-schreef", new_en, "Op ma 9 nov. 2026 om 10:12 schreef Lukas Meier <lukas.meier@bergbahnen-example.ch>:"),
        ("pt-escreveu", new_en, "Em seg., 9 de nov. de 2026 às 10:12, Lukas Meier <lukas.meier@bergbahnen-example.ch> escreveu:"),
    ]
    for trick, new, line in attributions:
        # Unprefixed quote, as Outlook and Apple Mail converting HTML often leave it.
        case("quotes", f"{trick}-unprefixed", message(c, "Re: Penetration test announcement booking shop", new + "\n" + line + "\n\n" + old),
             "an older complete notification under an attribution, without > markers", decision=["reject", "review"], reply_to=c.address)
    blocks = [
        ("outlook-en", "-----Original Message-----\nFrom: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nSent: Monday, November 9, 2026 10:12 AM\nTo: amazee.io Support <support@amazee.io>\nSubject: Penetration test announcement booking shop"),
        ("outlook-de", "Von: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nGesendet: Montag, 9. November 2026 10:12\nAn: amazee.io Support <support@amazee.io>\nBetreff: Penetration test announcement booking shop"),
        ("outlook-fr", "De : Lukas Meier <lukas.meier@bergbahnen-example.ch>\nEnvoyé : lundi 9 novembre 2026 10:12\nÀ : amazee.io Support <support@amazee.io>\nObjet : Penetration test announcement booking shop"),
        ("outlook-it", "Da: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nInviato: lunedì 9 novembre 2026 10:12\nA: amazee.io Support <support@amazee.io>\nOggetto: Penetration test announcement booking shop"),
        ("outlook-es", "De: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nEnviado: lunes, 9 de noviembre de 2026 10:12\nPara: amazee.io Support <support@amazee.io>\nAsunto: Penetration test announcement booking shop"),
        ("outlook-nl", "Van: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nVerzonden: maandag 9 november 2026 10:12\nAan: amazee.io Support <support@amazee.io>\nOnderwerp: Penetration test announcement booking shop"),
        ("outlook-pt", "De: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nEnviada em: segunda-feira, 9 de novembro de 2026 10:12\nPara: amazee.io Support <support@amazee.io>\nAssunto: Penetration test announcement booking shop"),
    ]
    for trick, block in blocks:
        new = new_de if trick.endswith("de") else new_en
        text = new + "\n________________________________\n" + block + "\n\n" + old
        case("quotes", f"{trick}-header-block",
             message(c, "AW: Penetration test announcement booking shop" if trick.endswith("de") else "RE: Penetration test announcement booking shop",
                     plain=text, html=html_of(text), style="outlook"),
             "an Outlook header block carrying an older complete notification", decision=["reject", "review"], reply_to=c.address)
    # gmail-style prefixed quote (the classic)
    pref = "\n".join("> " + l for l in old.split("\n"))
    case("quotes", "gmail-prefixed",
         message(c, "Re: Penetration test announcement booking shop", new_en + "\nOn Mon, 9 Nov 2026 at 10:12 Lukas Meier <lukas.meier@bergbahnen-example.ch> wrote:\n" + pref, style="gmail"),
         "a >-prefixed older notification", decision=["reject", "review"], reply_to=c.address)
    case("quotes", "thread-in-text-attachment",
         message(c, "Re: Penetration test announcement booking shop", plain=new_en + "\nThe earlier thread is attached.\n",
                 attachments=[("thread.txt", "text/plain; charset=utf-8",
                               "Saved thread\n\nOn Mon, 9 Nov 2026 at 10:12, Lukas Meier <lukas.meier@bergbahnen-example.ch> wrote:\n\n" + old)]),
         "a quoted thread inside a text attachment", decision=["reject", "review"], reply_to=c.address)
    case("quotes", "forwarded-block-in-attachment",
         message(c, "Fwd: Penetration test", plain="FYI, see attachment. The date is still open.\n",
                 attachments=[("forward.txt", "text/plain; charset=utf-8",
                               "---------- Forwarded message ---------\nFrom: Lukas Meier <lukas.meier@bergbahnen-example.ch>\nDate: Mon, 9 Nov 2026 at 10:12\nSubject: Penetration test\nTo: <support@amazee.io>\n\n" + old)]),
         "an old forwarded notification in a text attachment under an incomplete new text",
         decision=["reject", "review", "accept", "ignore"], reply_to=c.address)


# ---------------------------------------------------------------------------------------
# 5. Retractions, placeholders, addresses as targets, cancellations
# ---------------------------------------------------------------------------------------
def retract_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"

    def rej(trick, why, **kw):
        case("retract", trick, styled(c, subj, body_en(c, **kw)), why, decision=["reject", "review"], reply_to=c.address)

    rej("not-from-these-ips", "a negated IP list", ips="we will NOT test from 185.199.110.17 or 185.199.110.18 this time; new IPs will follow")
    rej("ips-not-yet-known", "IPs not yet known, old ones named", ips="not yet known (not 185.199.110.17 as last year)")
    rej("ips-will-be-provided", "IPs will be provided", ips="will be provided one week before the test by our vendor")
    rej("ips-tbd", "IPs TBD", ips="TBD")
    for trick, ph in [("tbd", "TBD"), ("tbc", "TBC"), ("to-be-confirmed", "to be confirmed"),
                      ("will-follow", "will follow"), ("n-a", "n/a")]:
        rej(f"contact-{trick}", f"contact placeholder {ph!r}", contact=ph)
    case("retract", "contact-folgt", message(c, subj, body_de(c, contact="folgt")), "Ansprechpartner: folgt",
         decision=["reject", "review"], reply_to=c.address)
    case("retract", "contact-wird-nachgereicht", message(c, subj, body_de(c, contact="wird nachgereicht")),
         "Ansprechpartner: wird nachgereicht", decision=["reject", "review"], reply_to=c.address)
    rej("contact-only-our-support", "the only contact is our own address", contact="support@amazee.io")
    rej("target-as-ip-no-origin", "the only address is the target's",
        targets="https://185.199.108.153/ (shop.bergbahnen-example.ch)", ips="our pentest vendor will send them")
    rej("target-ip-label-origin-missing", "IP named as target, origin line absent",
        targets="shop.bergbahnen-example.ch (185.199.108.153)", ips=None)
    rej("ip-in-scope-only", "the only IP is inside the scope",
        scope="SSRF tests against the internal metadata service 185.199.108.154 via the shop", ips=None)

    def canc(trick, why, text, lang="en"):
        body = text + "\n\n" + (body_en(c) if lang == "en" else body_de(c))
        case("retract", trick, message(c, subj, body), why, decision="review", reply_to="none")

    canc("cancelled-en", "cancellation in English", "Hello,\n\nplease note that the pen test below is cancelled.")
    canc("do-not-schedule", "do not schedule", "Hi team, please do not schedule the following test, we are not ready yet.")
    canc("postponed-en", "postponed", "Hello, our test is postponed until further notice. Original details for reference:")
    canc("abgesagt", "abgesagt", "Guten Tag\n\nDer unten beschriebene Penetrationstest ist abgesagt.", lang="de")
    canc("verschoben", "verschoben", "Guten Tag\n\nUnser Test wird auf unbestimmte Zeit verschoben.", lang="de")


# ---------------------------------------------------------------------------------------
# 6. Dates and zones
# ---------------------------------------------------------------------------------------
def date_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"

    def d(trick, why, decision, **kw):
        case("dates", trick, styled(c, subj, body_en(c, **kw)), why, decision=decision, reply_to=c.address if decision != "review" else "none")

    d("no-end-time", "start without an end", ["reject", "review"], end=None)
    d("end-open-ended", "end: open ended", ["reject", "review"], end="open-ended, until all findings are verified")
    d("31-april", "31 April does not exist", ["reject", "review"], start="31.04.2027 08:00", end="31.04.2027 18:00", zone=None)
    d("29-feb-2027", "29 February 2027 does not exist", ["reject", "review"], start="29 February 2027 08:00", end="29 February 2027 18:00")
    d("cst", "CST: US Central or China", "review", start="14 December 2026 09:00 CST", end="18 December 2026 17:00 CST", zone=None)
    d("ist", "IST: India, Ireland or Israel", "review", start="14 December 2026 09:00 IST", end="18 December 2026 17:00 IST", zone=None)
    d("bst", "BST in December: British Summer Time or Bangladesh", "review", start="14 December 2026 09:00 BST", end="18 December 2026 17:00 BST", zone=None)

    def z(trick, why, abbr, utc_start):
        case("dates", trick, message(c, subj, body_en(c, start=f"14 December 2026 09:00 {abbr}", end=f"18 December 2026 17:00 {abbr}", zone=None)),
             why, decision=["accept", "review"], reply_to=c.address, window_start=utc_start)

    z("jst", "JST is UTC+9: converted or review", "JST", "2026-12-14T00:00:00Z")
    z("aest", "AEST is UTC+10: converted or review", "AEST", "2026-12-13T23:00:00Z")
    z("msk", "MSK is UTC+3: converted or review", "MSK", "2026-12-14T06:00:00Z")
    z("gst-gulf", "GST (Gulf) UTC+4: converted or review", "GST", "2026-12-14T05:00:00Z")
    z("sgt", "SGT is UTC+8", "SGT", "2026-12-14T01:00:00Z")
    d("recon-a-week-earlier", "passive reconnaissance a week before the window", ["reject", "review"],
      intro="We would like to announce a penetration test of our web shop. Passive scanning and\nreconnaissance start a week earlier, on 7 December 2026.")
    d("us-date-order", "12/01/2026 could be 1 December or 12 January", ["review", "reject"],
      start="12/01/2026 08:00", end="12/03/2026 18:00", zone=None)


# ---------------------------------------------------------------------------------------
# 6. Load tests in any wording, platform hosts (20 days notice: broad must reject)
# ---------------------------------------------------------------------------------------
def broad_cases():
    c = VERS

    def de(trick, intro, scope):
        case("broad", trick, message(c, "Ankündigung Test Kundenportal",
                                     body_de(c, intro=intro, scope=scope, window=f"{TWENTY_START} bis {TWENTY_END} Uhr")),
             f"{trick}: broad, 20 days notice is too short", decision=["reject", "review"], reply_to=c.address)

    de("lasttest", "Wir kündigen einen Lasttest unseres Kundenportals an.", "Lasttest des Portals mit JMeter")
    de("last-und-pentest", "Wir planen einen Last- und Penetrationstest.", "Last- und Penetrationstest nach OWASP")
    de("leistungstest", "Wir kündigen einen Leistungstest an.", "Leistungstest der Prämienrechner-API")
    de("kapazitaetstest", "Wir kündigen einen Kapazitätstest an.", "Kapazitätstest vor der Prämienrunde")
    de("performance-test", "Wir kündigen einen Performance-Test an.", "Performance-Test mit Gatling")
    de("stresstest", "Wir kündigen einen Stresstest an.", "Stresstest bis zum Abbruch")
    de("performancetests-plural", "Wir führen Performancetests durch.", "Performancetests der Login-Strecke")
    c2 = BERG

    def en(trick, intro, scope, **kw):
        case("broad", trick, message(c2, "Test announcement", body_en(c2, intro=intro, scope=scope, start=TWENTY_START, end=TWENTY_END, **kw)),
             f"{trick}: broad, 20 days notice is too short", decision=["reject", "review"], reply_to=c2.address)

    en("benchmark-k6-rps", "We will benchmark our shop with k6 at 800 rps.", "benchmark of the booking flow with k6, 800 requests per second")
    en("not-only-load-also-pen", "This is not only a load test but also a pen test.", "penetration test and load test of the shop")
    en("no-pentest-but-load", "This is no ordinary pentest: we also simulate Black Friday traffic with Locust.", "traffic simulation with Locust")
    en("soak-test", "We will run a soak test over two days.", "soak test (endurance) with JMeter at 300 rps")
    en("platform-dashboard", "We will run a penetration test of the dashboard.", "pentest of the Lagoon dashboard login",
       targets="https://dashboard.amazee.io")
    en("platform-apex", "We will run a penetration test.", "pentest of our account pages", targets="https://amazee.io")
    en("platform-www", "We will run a penetration test.", "pentest", targets="www.amazee.io, shop.bergbahnen-example.ch")
    en("platform-api-lagoon-sh", "We will test the API we deploy with.", "pentest of the GraphQL API", targets="api.lagoon.sh")
    sh = Customer("Mia Koch", "mia.koch@ticketshop.sh", "Ticketshop", "+41 79 555 10 10",
                  "https://tickets.ticketshop.sh", "185.199.110.60", ("mail.ticketshop.sh", "185.199.110.61"))
    case("broad", "sh-host-own", message(sh, "Pentest tickets.ticketshop.sh", body_en(sh)),
         "a .sh host is a host, not a shell script: the verified customer's own host",
         decision="accept", reply_to=sh.address, target="tickets.ticketshop.sh")
    case("broad", "wildcard-target", message(c2, "Penetration test announcement", body_en(c2, targets="*.shop.bergbahnen-example.ch")),
         "a wildcard target stays a wildcard", decision=["accept", "review"], reply_to=c2.address, target="*.shop.bergbahnen-example.ch")


# ---------------------------------------------------------------------------------------
# 7. Plausibility limits
# ---------------------------------------------------------------------------------------
def limit_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"

    def lim(trick, why, **kw):
        case("limits", trick, styled(c, subj, body_en(c, **kw)), why, decision=["review", "reject"], reply_to=c.address)

    lim("source-slash-8", "a /8 source block", ips="44.0.0.0/8")
    lim("source-range-slash-12", "a range as wide as a /12", ips="100.128.0.0 - 100.143.255.255")
    lim("source-ipv6-slash-20", "a /20 IPv6 source", ips="2a02:1200::/20")
    lim("window-45-days", "a 45-day window", start="14.12.2026 08:00", end="27.01.2027 18:00")
    lim("start-in-400-days", "start 400 days ahead", start="31.12.2027 08:00", end="31.12.2027 18:00")
    lim("zero-traffic", "zero traffic", bandwidth="0 Mbit/s", rps="0")
    lim("50-gbit", "50 Gbit/s", bandwidth="50 Gbit/s")
    lim("1m-rps", "a million requests per second", rps="1,000,000")
    lim("10-tbit", "10 Tbit/s", bandwidth="10 Tbit/s", rps="5,000")
    lim("bytes-per-second", "5 GB/s is 40 Gbit/s", bandwidth="5 GB/s")
    lim("per-minute-rate", "10 million requests per minute is 166,667 per second", rps="10,000,000 requests per minute")


# ---------------------------------------------------------------------------------------
# 8. Ownership of targets
# ---------------------------------------------------------------------------------------
def owner_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"

    def own(trick, why, targets, **kw):
        case("owner", trick, styled(c, subj, body_en(c, targets=targets), **kw), why, decision="review", reply_to="none")

    own("other-company", "target at another company's domain", "https://www.example-retail.com")
    own("lookalike", "target at a look-alike domain", "https://shop.bergbahnen-examp1e.ch")
    own("suffix-trick", "target under a domain that starts with the sender's", "shop.bergbahnen-example.ch.attacker-example.net")
    own("mixed-own-and-foreign", "one own target, one foreign", "shop.bergbahnen-example.ch, login.example-bank.ch")
    u = UK
    case("owner", "psl-co-uk-other-org", message(u, "Pentest notification store", body_en(u, targets="store.evil.co.uk"), style="gmail"),
         "evil.co.uk is not shop-example.co.uk", decision="review", reply_to="none")
    gm = Customer("Lukas Meier", "lukas.meier.bergbahnen@gmail.com", "-", "+41 27 555 01 23",
                  "https://shop.bergbahnen-example.ch", "185.199.110.17", ("mail-sor-f41.google.com", "209.85.220.41"))
    case("owner", "verified-freemail-sender",
         message(gm, "Penetration test announcement booking shop", body_en(gm), style="gmail"),
         "a verified gmail.com sender proves nothing about bergbahnen-example.ch",
         decision="review", reply_to="none")
    own("sister-tld", "the sender's name under another TLD", "https://shop.bergbahnen-example.com")
    agency = Customer("Nina Graf", "nina.graf@agency-example.ch", "Agency Example GmbH", "+41 31 555 00 11",
                      "-", "185.199.110.90", ("mail.agency-example.ch", "185.199.110.91"))
    fwd = ("Hi amazee.io,\n\nplease see the notification of our client below.\n\nNina\n\n"
           "---------- Forwarded message ---------\nFrom: Lukas Meier <lukas.meier@bergbahnen-example.ch>\n"
           "Date: Wed, 25 Nov 2026 at 16:02\nSubject: Penetration test announcement booking shop\nTo: Nina Graf <nina.graf@agency-example.ch>\n\n"
           + body_en(BERG))
    case("owner", "forward-author-other-domain", message(agency, "Fwd: Penetration test announcement booking shop", fwd),
         "the verified forwarder is an agency; the targets belong to the quoted author's domain",
         decision="review", reply_to="none")
    case("owner", "forward-unverified-forwarder", message(agency, "Fwd: Penetration test announcement booking shop", fwd, auth=[]),
         "unverified forwarder of a notification", decision="review", reply_to="none")


# ---------------------------------------------------------------------------------------
# 9. Duplicates and ticketing tools
# ---------------------------------------------------------------------------------------
def dup_cases():
    c = BERG
    subj = "Penetration test announcement booking shop"
    mid = "<dup-4711@mail.bergbahnen-example.ch>"
    case("dupes", "same-id-complete", message(c, subj, body_en(c), message_id=mid),
         "first of three messages with one Message-ID: complete", decision="accept", reply_to=c.address)
    case("dupes", "same-id-incomplete", message(c, subj, body_en(c, ips=None), message_id=mid),
         "same Message-ID, IPs missing: decided on its own", decision=["reject", "review"], reply_to=c.address)
    case("dupes", "same-id-forged", message(c, subj, body_en(c, ips="185.199.111.0/28"), message_id=mid, auth=[]),
         "same Message-ID, no A-R, other IPs", decision="review", reply_to="none")
    r = RETAIL
    case("dupes", "same-id-other-customer", message(r, "Pen test checkout December", plain=body_en(r), html=html_of(body_en(r)),
                                                    style="outlook", message_id=mid),
         "same Message-ID from another verified customer: its own complete notification",
         decision="accept", reply_to=r.address)
    case("dupes", "same-id-cancelled", message(c, subj, "The test is cancelled.\n\n" + body_en(c), message_id=mid),
         "same Message-ID, cancellation", decision="review", reply_to="none")


def automated_cases():
    c = BERG
    subj = "[JIRA] (SEC-1042) Penetration test announcement booking shop"
    body = body_en(c)
    case("automated", "auto-generated-jira", message(c, subj, body, extra_headers=["Auto-Submitted: auto-generated", "X-JIRA-FingerPrint: 4f2b9c1e"]),
         "a ticketing tool sends a complete notification: review, no reply (RFC 3834)", decision="review", reply_to="none")
    case("automated", "precedence-bulk", message(c, subj, body, extra_headers=["Precedence: bulk"]),
         "Precedence: bulk", decision="review", reply_to="none")
    case("automated", "auto-generated-freshdesk-reply-to",
         message(c, "Ticket #88231: Penetration test", body, extra_headers=["Auto-Submitted: auto-generated", "Reply-To: support+88231@bergbahnen-example.freshdesk.com"]),
         "Freshdesk with a Reply-To at the ticketing tool", decision="review", reply_to="none")
    case("automated", "auto-replied-complete", message(c, subj, body, extra_headers=["Auto-Submitted: auto-replied"]),
         "auto-replied with a complete notification", decision=["review", "ignore"], reply_to="none")
    case("automated", "null-return-path",
         message(c, subj, body).replace(f"Return-Path: <{c.address}>", "Return-Path: <>", 1),
         "a complete notification with an empty envelope sender", decision=["review", "ignore"], reply_to="none")
    text = body_en(c)
    case("automated", "servicenow-html-auto-generated",
         message(c, "INC0012345 | Penetration test announcement", plain=text, html=html_of(text), style="outlook",
                 extra_headers=["Auto-Submitted: auto-generated", "X-ServiceNow-Source: EmailNotification"]),
         "ServiceNow notification in Outlook HTML", decision="review", reply_to="none")
    case("automated", "precedence-list", message(c, subj, body, extra_headers=["Precedence: list", "List-Id: <sec.bergbahnen-example.ch>"]),
         "list mail with a complete notification", decision=["review", "ignore"], reply_to="none")


def toml_value(v):
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    s = v.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def main():
    controls()
    auth_cases()
    reflection_cases()
    echo_cases()
    poison_cases()
    bounded_cases()
    hidden_cases()
    quote_cases()
    retract_cases()
    date_cases()
    broad_cases()
    limit_cases()
    owner_cases()
    dup_cases()
    automated_cases()
    # Cases numbered 300 and up were found by attack reviews and are kept by hand (with
    # expect-found.toml): only the generated ones are replaced.
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        m = re.match(r"(\d+)-", old)
        if old.endswith(".eml") and m and int(m.group(1)) < 300:
            os.remove(os.path.join(OUT, old))
    lines = [
        "# Expected safe outcome of every fixtures/adversarial/*.eml; written by",
        "# scripts/gen-adversarial.py (edit the script, not this file).",
        "#",
        f'# Every message arrives at {ARRIVAL} (the harness passes it as the known arrival).',
        "#",
        "# [\"NNN-category-trick.eml\"]",
        "# category  = section of issue 6 the trick belongs to",
        "# why       = the trick, in words",
        "# decision  = the allowed decisions (a string or a list); anything else fails",
        "# problem   = a problem code the verdict must carry (optional)",
        "# reply_to  = \"none\": no customer reply at all; an address or list of addresses: a",
        "#             reply may go only there",
        "# window_start = if accepted, the earliest window must start here (UTC, optional)",
        "# target    = if accepted, this target must be among the targets (optional)",
        "# greeting  = if a reply is sent, its greeting line is \"Hello <greeting>,\" (optional)",
        "",
        f'arrival = "{ARRIVAL}"',
        "",
    ]
    for name, cat, data, exp in CASES:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        lines.append(f'["{name}"]')
        lines.append(f"category = {toml_value(cat)}")
        for k in ["why", "decision", "problem", "reply_to", "window_start", "target", "greeting"]:
            if k in exp:
                lines.append(f"{k} = {toml_value(exp[k])}")
        lines.append("")
    with open(os.path.join(OUT, "expect.toml"), "w") as f:
        f.write("\n".join(lines))
    counts = {}
    for _, cat, _, _ in CASES:
        counts[cat] = counts.get(cat, 0) + 1
    sections = {
        "control": "honest notifications from verified customers about their own hosts (must be accepted or, for the two rejects, rejected)",
        "auth": "§1 sender verification: missing, foreign, duplicated and forged Authentication-Results, several or no From, PSL traps, our own domains",
        "reflect": "§2 who gets a reply: Reply-To at third parties, unverified senders with Reply-To",
        "echo": "§2 attacker text echoed: CR/LF and controls in encoded-words, bidi, 5 KB subjects, 500 problems, overlong Message-ID/References, greetings",
        "poison": "§3 addresses lettre cannot build in From, Reply-To and the contact",
        "bounded": "§4 bounded work: 1.5 MB of test words, 40,000 addresses, deep MIME, 10^5 HTML tags, many quote markers",
        "hidden": "§5 hidden HTML (each trick) and text/plain vs text/html disagreeing",
        "quotes": "§5 older complete notifications quoted under an incomplete new text: attributions in EN/DE/FR/IT/ES/NL/PT, Outlook header blocks, text attachments",
        "retract": "§5 retractions, placeholders, addresses written as targets, cancellations",
        "dates": "§6 windows without an end, impossible dates, ambiguous and foreign zone abbreviations, activity before the window",
        "broad": "§6 load tests in any wording and platform hosts, with 20 days notice (broad needs 28)",
        "limits": "§7 plausibility limits",
        "owner": "§8 targets the verified sender does not own, forwards",
        "dupes": "§9 several messages with one Message-ID, each decided on its own",
        "automated": "§9 complete notifications from ticketing tools and bulk senders",
    }
    readme = [
        "# Adversarial corpus",
        "",
        "Crafted messages for issue 6 (\"Trust\"), each a small mutation of an honest notification,",
        "named `NNN-category-trick.eml`, with the safe outcome in `expect.toml`. Generated by",
        "`scripts/gen-adversarial.py` (edit the script, rerun it, commit both); walked by",
        "`tests/it/adversarial.rs` (`cargo test --test it adversarial`). Every message arrives at",
        f"{ARRIVAL}; dates inside are absolute and fit that arrival.",
        "",
        "Cases numbered 300 and up were found by attack reviews of the merged code (the red",
        "team's findings, each copied as it was sent) and are kept by hand with their outcomes in",
        "`expect-found.toml`; the generator leaves them alone.",
        "",
        "| category | cases | what it tries |",
        "|---|---|---|",
    ]
    for cat, n in counts.items():
        readme.append(f"| {cat} | {n} | {sections.get(cat, '')} |")
    readme.append(f"| total | {len(CASES)} | |")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(readme) + "\n")
    print(f"{len(CASES)} cases: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
