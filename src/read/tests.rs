//! Whole-message tests of [`super::read`]: realistic mails from the clients customers use,
//! plus broken and oversized input.

#![allow(clippy::unwrap_used)]

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    let enc = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(enc.len() + enc.len() / 76 * 2);
    for chunk in enc.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }
    out
}

const PLAIN: &str = "Return-Path: <jane.doe@customer.ch>
Received: from mail.customer.ch (mail.customer.ch [203.0.113.5])
\tby mx.example.com with ESMTPS id abc; Tue, 10 Nov 2026 10:00:05 +0100 (CET)
Received: from laptop (unknown [10.0.0.5]) by mail.customer.ch; Tue, 10 Nov 2026 09:59:00 +0100
Authentication-Results: mx.example.com;
\tdkim=pass header.d=customer.ch;
\tspf=pass smtp.mailfrom=customer.ch
Authentication-Results: other.example.com; dmarc=pass
Message-ID: <CAF+abc123@mail.customer.ch>
References: <first@example.com>
 <second@example.com>
In-Reply-To: <second@example.com>
From: \"Doe, Jane\" <Jane.Doe@Customer.CH>
Reply-To: Ops <OPS@customer.ch>
To: support@example.com
Subject: Load test notification
Date: Tue, 10 Nov 2026 09:59:58 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hello support,

we plan a load test of www.customer.ch.
Start: 2026-12-01 09:00 CET
End:   2026-12-01 11:00 CET

Best regards
Jane Doe
+41 44 555 66 77
";

#[test]
fn plain_message_headers_and_text() {
    let l = read(&crlf(PLAIN));
    assert_eq!(l.message_id.as_deref(), Some("CAF+abc123@mail.customer.ch"));
    assert_eq!(l.from.as_deref(), Some("jane.doe@customer.ch"));
    assert_eq!(l.from_name.as_deref(), Some("Doe, Jane"));
    assert_eq!(l.reply_to.as_deref(), Some("ops@customer.ch"));
    assert_eq!(l.subject, "Load test notification");
    assert_eq!(
        l.date,
        Some(Utc.with_ymd_and_hms(2026, 11, 10, 8, 59, 58).unwrap())
    );
    assert_eq!(
        l.received,
        Some(Utc.with_ymd_and_hms(2026, 11, 10, 9, 0, 5).unwrap())
    );
    assert_eq!(
        l.references,
        vec!["first@example.com", "second@example.com"]
    );
    assert_eq!(
        l.authentication_results,
        vec![
            "mx.example.com; dkim=pass header.d=customer.ch; spf=pass smtp.mailfrom=customer.ch",
            "other.example.com; dmarc=pass"
        ]
    );
    assert_eq!(l.automated, None);
    assert_eq!(l.unreadable, None);
    assert_eq!(
        l.text.new,
        "Hello support,\n\nwe plan a load test of www.customer.ch.\nStart: 2026-12-01 09:00 CET\nEnd:   2026-12-01 11:00 CET"
    );
    assert_eq!(l.text.signature, "Best regards\nJane Doe\n+41 44 555 66 77");
    assert_eq!(l.text.quoted, "");
    assert!(!l.text.new.contains('\r'));
}

#[test]
fn received_date_tolerates_junk() {
    assert_eq!(
        received_date("from x by y; Tue, 10 Nov 2026 10:00:05 +0100 (CET) junk"),
        Some(Utc.with_ymd_and_hms(2026, 11, 10, 9, 0, 5).unwrap())
    );
    assert_eq!(received_date("from x by y"), None);
    assert_eq!(received_date("from x; garbage"), None);
    assert_eq!(received_date(";;;"), None);
}

const OUTLOOK: &str = r##"From: Hans Muster <hans.muster@firma.ch>
To: "support@example.com" <support@example.com>
Subject: AW: Lasttest
Date: Wed, 11 Nov 2026 08:15:00 +0000
Message-ID: <AM0PR01MB1234@eurprd01.prod.outlook.com>
Content-Type: multipart/alternative; boundary="_000_AM0PR01MB1234_"
MIME-Version: 1.0

--_000_AM0PR01MB1234_
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable


--_000_AM0PR01MB1234_
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

<html xmlns:o=3D"urn:schemas-microsoft-com:office:office"><head>
<style><!--
p.MsoNormal {margin:0cm; font-size:11.0pt;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext=3D"edit" spidmax=3D"1026" />
</xml><![endif]--></head>
<body lang=3D"DE-CH"><div class=3D"WordSection1">
<p class=3D"MsoNormal">Guten Tag<o:p></o:p></p>
<p class=3D"MsoNormal"><o:p>&nbsp;</o:p></p>
<p class=3D"MsoNormal">Hier die Angaben f=FCr den Lasttest:<o:p></o:p></p>
<table class=3D"MsoTableGrid" border=3D"1"><tr>
<td width=3D"150"><p class=3D"MsoNormal"><b>Start</b><o:p></o:p></p></td>
<td width=3D"250"><p class=3D"MsoNormal">01.12.2026 09:00<o:p></o:p></p></td>
</tr><tr>
<td><p class=3D"MsoNormal"><b>Ende</b><o:p></o:p></p></td>
<td><p class=3D"MsoNormal">01.12.2026 11:00<o:p></o:p></p></td>
</tr></table>
<p class=3D"MsoNormal"><o:p>&nbsp;</o:p></p>
<p class=3D"MsoNormal">Freundliche Gr=FCsse<o:p></o:p></p>
<p class=3D"MsoNormal">Hans Muster<br>Tel. +41 31 123 45 67<o:p></o:p></p>
<p class=3D"MsoNormal"><o:p>&nbsp;</o:p></p>
<div style=3D"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm =
0cm 0cm">
<p class=3D"MsoNormal"><b>Von:</b> Support &lt;support@example.com&gt; <br>
<b>Gesendet:</b> Dienstag, 10. November 2026 17:00<br>
<b>An:</b> Hans Muster &lt;hans.muster@firma.ch&gt;<br>
<b>Betreff:</b> Lasttest<o:p></o:p></p>
</div>
<p class=3D"MsoNormal">Bitte senden Sie Start und Ende.<o:p></o:p></p>
</div></body></html>

--_000_AM0PR01MB1234_--
"##;

#[test]
fn outlook_html_with_table_and_quoted_block() {
    let l = read(&crlf(OUTLOOK));
    assert_eq!(l.unreadable, None);
    assert_eq!(
        l.text.new,
        "Guten Tag\n\nHier die Angaben für den Lasttest:\nStart\t01.12.2026 09:00\nEnde\t01.12.2026 11:00"
    );
    assert_eq!(
        l.text.signature,
        "Freundliche Grüsse\nHans Muster\nTel. +41 31 123 45 67"
    );
    assert!(
        l.text
            .quoted
            .starts_with("Von: Support <support@example.com>\nGesendet:")
    );
    assert!(l.text.quoted.ends_with("Bitte senden Sie Start und Ende."));
    assert!(!l.text.quoted.contains("MsoNormal"));
}

const GMAIL: &str = r#"From: Bob Example <bob@example.org>
To: support@example.com
Subject: Re: Pentest
Date: Thu, 12 Nov 2026 14:02:11 -0800
Message-ID: <CAGmail@mail.gmail.com>
In-Reply-To: <ticket-1@example.com>
Content-Type: multipart/alternative; boundary="000000000000abcdef"

--000000000000abcdef
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

PLAIN: our scanners run from 198.51.100.0/28.

On Thu, 12 Nov 2026 at 10:00, Support Team <support@example.com>
wrote:

> Which IP addresses will you use?
>
> Regards, Support

--000000000000abcdef
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">HTML: our scanners run from 198.51.100.0/28.</div><br><div=
 class=3D"gmail_quote"><div dir=3D"ltr" class=3D"gmail_attr">On Thu, 12 Nov=
 2026 at 10:00, Support Team &lt;<a href=3D"mailto:support@example.com">sup=
port@example.com</a>&gt; wrote:<br></div><blockquote class=3D"gmail_quote">=
Which IP addresses will you use?</blockquote></div>

--000000000000abcdef--
"#;

#[test]
fn gmail_alternative_prefers_plain_and_splits_quote() {
    let l = read(&crlf(GMAIL));
    assert_eq!(l.text.new, "PLAIN: our scanners run from 198.51.100.0/28.");
    assert!(
        l.text
            .quoted
            .starts_with("On Thu, 12 Nov 2026 at 10:00, Support Team")
    );
    assert!(l.text.quoted.contains("> Which IP addresses will you use?"));
    assert_eq!(l.references, vec!["ticket-1@example.com"]);
    assert_eq!(
        l.date,
        Some(Utc.with_ymd_and_hms(2026, 11, 12, 22, 2, 11).unwrap())
    );
}

#[test]
fn gmail_html_only_uses_own_converter() {
    // Drop the plain part: the HTML must go through our converter (blockquote → "> ").
    let (head, rest) = GMAIL
        .split_once("--000000000000abcdef\nContent-Type: text/plain")
        .unwrap_or_default();
    let (_, html) = rest
        .split_once("--000000000000abcdef\nContent-Type: text/html")
        .unwrap_or_default();
    let html_only = format!("{head}--000000000000abcdef\nContent-Type: text/html{html}");
    let l = read(html_only.as_bytes());
    assert_eq!(l.text.new, "HTML: our scanners run from 198.51.100.0/28.");
    assert!(
        l.text
            .quoted
            .starts_with("On Thu, 12 Nov 2026 at 10:00, Support Team <support@example.com> wrote:")
    );
    assert!(l.text.quoted.contains("> Which IP addresses will you use?"));
}

#[test]
fn german_reply_latin1_quoted_printable() {
    let raw = b"From: =?iso-8859-1?Q?J=FCrg_M=FCller?= <juerg@beispiel.ch>\r\n\
Subject: =?iso-8859-1?Q?AW:_Pr=FCfung?=\r\n\
Content-Type: text/plain; charset=ISO-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Gr=FCezi\r\n\
\r\n\
Die Pr=FCfung startet am 3.12.2026 um 08:00 Uhr.\r\n\
\r\n\
Mit freundlichen Gr=FC=DFen\r\n\
J=FCrg M=FCller\r\n\
\r\n\
Am 12.11.2026 um 10:00 schrieb Support <support@example.com>:\r\n\
> Wann startet der Test?\r\n";
    let l = read(raw);
    assert_eq!(l.from_name.as_deref(), Some("Jürg Müller"));
    assert_eq!(l.subject, "AW: Prüfung");
    assert_eq!(
        l.text.new,
        "Grüezi\n\nDie Prüfung startet am 3.12.2026 um 08:00 Uhr."
    );
    assert_eq!(l.text.signature, "Mit freundlichen Grüßen\nJürg Müller");
    assert_eq!(
        l.text.quoted,
        "Am 12.11.2026 um 10:00 schrieb Support <support@example.com>:\n> Wann startet der Test?"
    );
}

#[test]
fn base64_body_and_unlabelled_latin1() {
    let body = "Lasttest f\u{fc}r shop.example.ch am 5.12.2026.\n";
    let raw = format!(
        "From: a@b.ch\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        b64(body.as_bytes())
    );
    assert_eq!(
        read(raw.as_bytes()).text.new,
        "Lasttest für shop.example.ch am 5.12.2026."
    );
    let mut raw =
        b"From: a@b.ch\r\nSubject: x\r\n\r\nGr\xfcsse aus Z\xfcrich, Test am 1.12.".to_vec();
    raw.extend_from_slice(b"\r\n");
    assert_eq!(read(&raw).text.new, "Grüsse aus Zürich, Test am 1.12.");
}

#[test]
fn inline_forward_without_and_with_own_text() {
    let bare = "From: Peter <peter@agency.ch>\nSubject: Fwd: Load test\n\nFYI\n\n---------- Forwarded message ---------\nFrom: Jane Doe <jane@customer.ch>\nDate: Mon, 9 Nov 2026 at 10:00\nSubject: Load test\nTo: Peter <peter@agency.ch>\n\nWe will load test www.customer.ch on 1.12.2026.\n\nRegards\nJane\n+41 79 111 22 33\n";
    let l = read(bare.as_bytes());
    assert_eq!(
        l.text.new,
        "We will load test www.customer.ch on 1.12.2026."
    );
    assert_eq!(l.text.signature, "Regards\nJane\n+41 79 111 22 33");
    assert_eq!(l.forwarded_from.as_deref(), Some("jane@customer.ch"));
    assert_eq!(l.from.as_deref(), Some("peter@agency.ch"));

    let own = bare.replace(
        "FYI",
        "Hi, we are the agency of Customer AG and will run the test on their behalf from our own office network 192.0.2.10, details of the customer below, please confirm.",
    );
    let l = read(own.as_bytes());
    assert!(l.text.new.starts_with("Hi, we are the agency"));
    assert!(l.text.quoted.contains("We will load test www.customer.ch"));
    assert_eq!(l.forwarded_from, None);
}

#[test]
fn outlook_html_forward_under_wg_subject() {
    let raw = r#"From: Peter Meier <peter.meier@agentur.ch>
Subject: WG: Sicherheitstest shop.kunde.ch
Content-Type: text/html; charset=utf-8

<html><body><div class=WordSection1><p class=MsoNormal>Hallo zusammen<o:p></o:p></p>
<p class=MsoNormal>Zur Info.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>Gruss Peter<o:p></o:p></p>
<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p class=MsoNormal><b><span lang=DE>Von:</span></b><span lang=DE> Anna Kunde &lt;anna@kunde.ch&gt;<br>
<b>Gesendet:</b> Montag, 9. November 2026 10:00<br><b>An:</b> Peter Meier &lt;peter.meier@agentur.ch&gt;<br>
<b>Betreff:</b> Sicherheitstest shop.kunde.ch<o:p></o:p></span></p></div></div>
<p class=MsoNormal>Guten Tag<o:p></o:p></p>
<p class=MsoNormal>Wir testen shop.kunde.ch vom 14.12.2026 bis 15.12.2026.<o:p></o:p></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>Beste Gr&uuml;sse<o:p></o:p></p><p class=MsoNormal>Anna Kunde<br>+41 61 000 00 00<o:p></o:p></p>
</div></body></html>
"#;
    let l = read(raw.as_bytes());
    assert_eq!(
        l.text.new,
        "Guten Tag\nWir testen shop.kunde.ch vom 14.12.2026 bis 15.12.2026."
    );
    assert_eq!(
        l.text.signature,
        "Beste Grüsse\nAnna Kunde\n+41 61 000 00 00"
    );
    assert_eq!(l.forwarded_from.as_deref(), Some("anna@kunde.ch"));
    assert!(l.text.quoted.contains("Zur Info."));
}

fn attached_forward(own: &str) -> String {
    format!(
        "From: Peter <peter@agency.ch>\r
Subject: Fw: Pentest\r
Content-Type: multipart/mixed; boundary=\"outer\"\r
\r
--outer\r
Content-Type: text/plain; charset=utf-8\r
\r
{own}\r
--outer\r
Content-Type: message/rfc822\r
Content-Disposition: attachment; filename=\"Pentest.eml\"\r
\r
From: Jane Doe <Jane@Customer.ch>\r
Subject: Pentest\r
Date: Mon, 9 Nov 2026 10:00:00 +0100\r
Content-Type: multipart/mixed; boundary=\"inner\"\r
\r
--inner\r
Content-Type: text/plain; charset=utf-8\r
\r
Pentest of app.customer.ch from 203.0.113.0/29, 14.12.2026.\r
\r
Kind regards\r
Jane\r
--inner\r
Content-Type: text/csv; name=\"ips.csv\"\r
Content-Disposition: attachment; filename=\"ips.csv\"\r
\r
ip,purpose\r
203.0.113.1,scanner\r
--inner--\r
\r
--outer--\r
"
    )
}

#[test]
fn forward_as_attached_message() {
    let l = read(attached_forward("see below").as_bytes());
    assert_eq!(
        l.text.new,
        "Pentest of app.customer.ch from 203.0.113.0/29, 14.12.2026."
    );
    assert_eq!(l.text.signature, "Kind regards\nJane");
    assert_eq!(l.forwarded_from.as_deref(), Some("jane@customer.ch"));
    assert_eq!(l.text.attachments, "ip,purpose\n203.0.113.1,scanner");
    assert!(l.text.quoted.contains("see below"));

    let own = "Dear support, our security partner will run the test described in the attached message; I am the responsible contact at the customer and can stop the test at any time, phone +41 44 000 00 00.";
    let l = read(attached_forward(own).as_bytes());
    assert_eq!(l.text.new, own);
    assert!(l.text.quoted.contains("From: Jane Doe <jane@customer.ch>"));
    assert!(l.text.quoted.contains("Pentest of app.customer.ch"));
    assert_eq!(l.forwarded_from, None);
}

#[test]
fn text_like_attachments_are_read_binary_ones_skipped() {
    let raw = format!(
        "From: a@b.ch\r
Subject: Test\r
Content-Type: multipart/mixed; boundary=b\r
\r
--b\r
Content-Type: text/plain\r
\r
See attachments.\r
--b\r
Content-Type: application/octet-stream; name=scope.txt\r
Content-Transfer-Encoding: base64\r
\r
{}--b\r
Content-Type: text/calendar; method=REQUEST; charset=utf-8\r
\r
BEGIN:VCALENDAR\r
BEGIN:VEVENT\r
DTSTART:20261201T080000Z\r
DTEND:20261201T100000Z\r
END:VEVENT\r
END:VCALENDAR\r
--b\r
Content-Type: application/pdf; name=offer.pdf\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQKJeLjz9MK\r
--b\r
Content-Type: text/html; name=page.html\r
Content-Disposition: attachment\r
\r
<p>not read</p>\r
--b--\r
",
        b64(b"Scope: www.b.ch\n")
    );
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "See attachments.");
    assert_eq!(
        l.text.attachments,
        // The calendar as a calendar shows it: its window in words the date reader knows.
        "Scope: www.b.ch\n\nStart: 2026-12-01 08:00 UTC\nEnd: 2026-12-01 10:00 UTC"
    );
    assert!(!l.text.attachments.contains("PDF"));
    assert!(!l.text.attachments.contains("not read"));
}

#[test]
fn automated_detection() {
    let base = "From: Jane <jane@customer.ch>\r\nSubject: Load test\r\n";
    let with = |extra: &str, subject: &str| {
        let raw = format!(
            "{}{extra}\r\n\r\nHello\r\n",
            base.replace("Load test", subject)
        );
        read(raw.as_bytes()).automated
    };
    assert_eq!(with("X-Mailer: x", "Load test"), None);
    assert!(with("Auto-Submitted: auto-replied", "Load test").is_some());
    assert_eq!(with("Auto-Submitted: no", "Load test"), None);
    assert_eq!(with("X-Auto-Response-Suppress: All", "Load test"), None);
    assert_eq!(with("X-Autorespond: whatever", "Load test"), None);
    assert!(with("X-Autoreply: yes", "Load test").is_some());
    assert!(with("Precedence: bulk", "Load test").is_some());
    assert_eq!(with("Precedence: first-class", "Load test"), None);
    assert!(with("List-Id: <news.customer.ch>", "Load test").is_some());
    assert!(with("List-Unsubscribe: <mailto:u@customer.ch>", "Load test").is_some());
    assert!(with("Return-Path: <>", "Load test").is_some());
    assert!(with("X-A: b", "Automatic reply: Load test").is_some());
    assert!(with("X-A: b", "Automatische Antwort: Lasttest").is_some());
    assert!(with("X-A: b", "Abwesenheitsnotiz: Lasttest").is_some());
    assert!(with("X-A: b", "Undeliverable: Load test").is_some());
    assert!(with("X-A: b", "Out of Office Re: Load test").is_some());
    assert!(with("X-A: b", "Load test during office hours").is_none());
    let raw = "From: MAILER-DAEMON@mx.customer.ch\r\nSubject: failure\r\n\r\nx";
    assert!(read(raw.as_bytes()).automated.is_some());
    let raw = "From: No-Reply <no-reply@customer.ch>\r\nSubject: hi\r\n\r\nx";
    assert!(read(raw.as_bytes()).automated.is_some());
}

#[test]
fn dsn_bounce_is_automated_and_readable() {
    let raw = "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r
To: jane@customer.ch\r
Subject: Undelivered Mail Returned to Sender\r
Content-Type: multipart/report; report-type=delivery-status; boundary=\"9B0A\"\r
\r
--9B0A\r
Content-Description: Notification\r
Content-Type: text/plain; charset=us-ascii\r
\r
This is the mail system at host mx.example.com.\r
I'm sorry to have to inform you that your message could not be delivered.\r
--9B0A\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.example.com\r
Final-Recipient: rfc822; nobody@example.com\r
Action: failed\r
Status: 5.1.1\r
--9B0A\r
Content-Type: message/rfc822\r
\r
From: jane@customer.ch\r
Subject: Load test\r
\r
We start tomorrow.\r
--9B0A--\r
";
    let l = read(raw.as_bytes());
    assert_eq!(
        l.automated.as_deref(),
        Some("delivery report (multipart/report)")
    );
    assert!(l.text.new.starts_with("This is the mail system"));
    assert!(!l.text.new.contains("Reporting-MTA"));
    assert!(l.text.quoted.contains("We start tomorrow."));
    assert_eq!(l.forwarded_from, None);
}

#[test]
fn signature_and_disclaimer() {
    let raw = "From: a@bank.ch\r\nSubject: Pentest\r\n\r\nWe test https://ebank.bank.ch from 2026-12-10 to 2026-12-11.\r\n\r\nKind regards\r\nAnna Beispiel\r\nHead of Security | Bank AG\r\nT +41 58 000 00 00\r\n\r\nCONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may be privileged.\r\nIf you are not the intended recipient, please notify the sender.\r\n";
    let l = read(raw.as_bytes());
    assert_eq!(
        l.text.new,
        "We test https://ebank.bank.ch from 2026-12-10 to 2026-12-11."
    );
    assert!(l.text.signature.starts_with("Kind regards\nAnna Beispiel\nHead of Security | Bank AG\nT +41 58 000 00 00\n\nCONFIDENTIALITY NOTICE"));
}

#[test]
fn empty_and_garbage_are_unreadable() {
    assert!(read(b"").unreadable.is_some());
    assert!(read(b"  \r\n ").unreadable.is_some());
    // Binary garbage without headers.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let l = read(&garbage);
    assert!(l.unreadable.is_some());
    assert!(l.text.new.is_empty());
    // Binary garbage as a text/plain body.
    let mut raw = b"From: a@b.ch\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    raw.extend_from_slice(&garbage);
    let l = read(&raw);
    assert_eq!(
        l.unreadable.as_deref(),
        Some("the body is binary, not text")
    );
    assert!(l.text.new.is_empty());
    // Headers only: nothing to read.
    let l = read(b"From: a@b.ch\r\nSubject: x\r\n\r\n");
    assert_eq!(l.unreadable.as_deref(), Some("no readable text"));
    assert_eq!(l.from.as_deref(), Some("a@b.ch"));
    // Only a PDF attachment.
    let l = read(b"From: a@b.ch\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n--x--\r\n");
    assert!(l.unreadable.is_some());
}

#[test]
fn thousand_parts() {
    let mut raw = String::from(
        "From: a@b.ch\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n",
    );
    raw.push_str("--zz\r\nContent-Type: text/plain\r\n\r\nThe body.\r\n");
    for i in 0..1000 {
        raw.push_str(&format!(
            "--zz\r\nContent-Type: image/png; name=i{i}.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        ));
    }
    raw.push_str("--zz--\r\n");
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "The body.");
}

#[test]
fn deep_nesting_and_attached_message_chains_are_bounded() {
    // 200 nested multiparts: only the first levels are followed.
    let mut raw = String::from("From: a@b.ch\r\nSubject: deep\r\n");
    for i in 0..200 {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\ndeep text\r\n");
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "");
    // Messages attached inside attached messages, 10 deep: read to a fixed depth.
    let mut msg = String::from("From: inner@x.ch\r\nSubject: in\r\n\r\ninnermost text\r\n");
    for i in 0..10 {
        msg = format!(
            "From: l{i}@x.ch\r\nSubject: Fw: l{i}\r\nContent-Type: multipart/mixed; boundary=m{i}\r\n\r\n--m{i}\r\nContent-Type: message/rfc822\r\n\r\n{msg}\r\n--m{i}--\r\n"
        );
    }
    let l = read(msg.as_bytes());
    assert!(!l.text.new.contains("innermost text"));
    assert!(!l.text.quoted.contains("innermost text"));
}

#[test]
fn five_megabyte_attachment_is_not_decoded() {
    let blob: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let raw = format!(
        "From: a@b.ch\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nBody text.\r\n--q\r\nContent-Type: application/zip; name=big.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n{}--q\r\nContent-Type: text/plain; name=big.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n{}--q--\r\n",
        b64(&blob),
        b64(&"line of text\n".repeat(400_000).into_bytes()),
    );
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "Body text.");
    assert!(l.text.attachments.len() <= mime::ATTACHMENT_CAP);
    assert!(l.text.attachments.starts_with("line of text\nline of text"));
}

#[test]
fn one_megabyte_single_line_html() {
    let mut html = String::from("<html><body><div>");
    while html.len() < 1 << 20 {
        html.push_str("<span>Lasttest&nbsp;am</span> <b>1.12.2026</b> ");
    }
    let raw = format!("From: a@b.ch\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n{html}");
    let l = read(raw.as_bytes());
    assert!(l.text.new.starts_with("Lasttest am 1.12.2026 Lasttest am"));
    assert!(l.text.new.len() <= NEW_CAP);
}

#[test]
fn mbox_envelope_line_and_plain_stub() {
    let raw = "From jane@customer.ch Tue Nov 10 10:00:00 2026\nFrom: jane@customer.ch\nSubject: x\n\nHello.\n";
    let l = read(raw.as_bytes());
    assert_eq!(l.from.as_deref(), Some("jane@customer.ch"));
    assert_eq!(l.text.new, "Hello.");
    assert_eq!(l.unreadable, None);

    let raw = "From: a@b.ch\nSubject: x\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nPlease view this message in an HTML capable client.\n--b\nContent-Type: text/html\n\n<p>We plan a load test of www.b.ch on 1 December 2026 from 09:00 to 11:00 CET with 500 requests per second and 200 Mbit/s from 192.0.2.1, contact Anna Muster, +41 44 000 00 00.</p>\n--b--\n";
    let l = read(raw.as_bytes());
    assert!(
        l.text.new.starts_with("We plan a load test"),
        "{}",
        l.text.new
    );
}

#[test]
fn truncated_mime_keeps_what_is_there() {
    let raw = "From: a@b.ch\r\nSubject: x\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nStart am 1.12.=\r\n2026 um 09:0";
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "Start am 1.12.2026 um 09:0");
}

fn valid_messages() -> Vec<Vec<u8>> {
    vec![
        crlf(PLAIN),
        crlf(OUTLOOK),
        crlf(GMAIL),
        attached_forward("FYI").into_bytes(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let l = read(&bytes);
        prop_assert!(l.text.new.len() <= NEW_CAP);
    }

    #[test]
    fn never_panics_on_mutated_messages(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..20),
    ) {
        let mut msg = valid_messages().swap_remove(which);
        for (at, byte, op) in edits {
            if msg.is_empty() {
                break;
            }
            let i = at.index(msg.len());
            match op {
                0 => msg[i] = byte,
                1 => { msg.remove(i); }
                _ => msg.truncate(i),
            }
        }
        let l = read(&msg);
        // Whatever is read, it is normalised.
        prop_assert!(!l.text.new.contains('\r'));
        prop_assert!(!l.text.new.contains("\n\n\n"));
    }

    #[test]
    fn header_values_survive_arbitrary_text(subject in "\\PC{0,200}", body in "\\PC{0,400}") {
        let raw = format!("From: x@y.ch\r\nSubject: {subject}\r\n\r\n{body}");
        let l = read(raw.as_bytes());
        prop_assert_eq!(l.from.as_deref(), Some("x@y.ch"));
    }
}

/// The former char-by-char count, kept to check the byte-wise one against.
fn replacement_share_reference(s: &str) -> f64 {
    let (mut bad, mut total) = (0usize, 0usize);
    for c in s.chars().take(1 << 16) {
        total += 1;
        if c == '\u{fffd}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c')) {
            bad += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        bad as f64 / total as f64
    }
}

proptest! {
    #[test]
    fn replacement_share_matches_reference(s in "\\PC{0,40}|[a\u{fffd}\u{85}\u{9f}\u{a0}\u{7f}\u{1}\t\n\r\u{c}\u{fffc}€ü]{0,40}") {
        prop_assert_eq!(replacement_share(&s), replacement_share_reference(&s));
    }
}

proptest! {
    /// Mostly printable ASCII, so the eight-bytes-at-a-time path and its hand-over to the
    /// byte loop are exercised.
    #[test]
    fn replacement_share_matches_reference_on_ascii_runs(s in "([ -~]{0,20}[\u{0}-\u{1f}\u{7f}\u{85}\u{fffd}ü]?){0,12}") {
        prop_assert_eq!(replacement_share(&s), replacement_share_reference(&s));
    }
}

#[test]
fn replacement_share_ascii_stops_after_65536_characters() {
    for pad in 0..9 {
        let s = format!("{}{}", "a".repeat((1 << 16) - pad), "\u{1}".repeat(100));
        assert_eq!(
            replacement_share(&s),
            replacement_share_reference(&s),
            "{pad}"
        );
    }
    let s = format!("{}\u{1}{}", "a".repeat(1 << 15), "b".repeat(1 << 16));
    assert!(replacement_share(&s) > 0.0);
    assert_eq!(replacement_share(&s), replacement_share_reference(&s));
}

#[test]
fn replacement_share_stops_after_65536_characters() {
    let s = format!("{}{}", "ü".repeat(1 << 16), "\u{1}".repeat(100));
    assert_eq!(replacement_share(&s), 0.0);
    assert_eq!(replacement_share(&s), replacement_share_reference(&s));
}

/// An Outlook message whose visible table names two source IPs while a preheader, a
/// zero-size span, a class hidden by the style block, white text and an Outlook-only
/// conditional block name others: only the visible ones may reach `text.new`.
const OUTLOOK_HIDDEN_IPS: &[u8] = include_bytes!("../../fixtures/read/outlook-hidden-ips.eml");

#[test]
fn outlook_hidden_source_ips_never_reach_the_new_text() {
    let l = read(OUTLOOK_HIDDEN_IPS);
    assert_eq!(l.unreadable, None);
    assert_eq!(l.subject, "Ankündigung Lasttest");
    assert_eq!(
        l.text.new,
        "Guten Tag\n\nWir führen einen Lasttest auf www.kunde-beispiel.ch durch:\n\nQuell-IPs\t192.0.2.10, 192.0.2.11\nStart\t01.02.2027 09:00 MEZ\nEnde\t01.02.2027 11:00 MEZ\nLast\t500 Anfragen/s, 200 Mbit/s\n\nKontakt während des Tests: Anna Muster, +41 44 555 66 77"
    );
    let everything = format!(
        "{}\n{}\n{}\n{}",
        l.text.new, l.text.quoted, l.text.signature, l.text.attachments
    );
    for hidden in [
        "198.51.100",
        "203.0.113",
        "Zusätzliche",
        "Weitere Quelle",
        "Outlook-Quelle",
        "MsoNormal",
        "Ankündigung Lasttest\n",
    ] {
        assert!(
            !everything.contains(hidden),
            "{hidden} read from hidden HTML"
        );
    }
    assert_eq!(
        l.text.signature,
        "Freundliche Grüsse\nAnna Muster\nKunde Beispiel AG"
    );
    // Only one rendering: nothing to compare.
    assert_eq!(l.alt_new, None);
}

fn alternative(plain: &str, html: &str) -> Vec<u8> {
    crlf(&format!(
        "From: Jane <jane@customer.ch>\nTo: support@example.com\nSubject: Pentest\nDate: Tue, 10 Nov 2026 10:00:00 +0100\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\nContent-Type: text/plain; charset=utf-8\n\n{plain}\n--alt\nContent-Type: text/html; charset=utf-8\n\n{html}\n--alt--\n"
    ))
}

#[test]
fn plain_and_html_disagreeing_exposes_the_html_new_text() {
    // The plain part (read by intake) names sources the HTML (read by people) hides.
    let raw = alternative(
        "Hello,\n\nour pentest runs from 198.51.100.7 on 1 Dec 2026.\n\nBest regards\nJane\n\nOn Mon, 9 Nov 2026, Support wrote:\n> Which IPs?",
        r#"<div>Hello,</div><div><br></div><div>our pentest runs from 192.0.2.10<span style="display:none"> 198.51.100.7</span> on 1 Dec 2026.</div><div><br></div><div>Best regards<br>Jane</div><div class="gmail_quote">On Mon, 9 Nov 2026, Support wrote:<blockquote>Which IPs?</blockquote></div>"#,
    );
    let l = read(&raw);
    assert_eq!(
        l.text.new,
        "Hello,\n\nour pentest runs from 198.51.100.7 on 1 Dec 2026."
    );
    assert_eq!(
        l.alt_new.as_deref(),
        Some("Hello,\n\nour pentest runs from 192.0.2.10 on 1 Dec 2026.")
    );
    // The HTML with its hidden text revealed, split the same way.
    assert_eq!(
        l.revealed_new.as_deref(),
        Some("Hello,\n\nour pentest runs from 192.0.2.10 198.51.100.7 on 1 Dec 2026.")
    );
}

fn html_only(html: &str) -> Vec<u8> {
    crlf(&format!(
        "From: Jane <jane@customer.ch>\nTo: support@example.com\nSubject: Pentest\nDate: Tue, 10 Nov 2026 10:00:00 +0100\nContent-Type: text/html; charset=utf-8\n\n{html}\n"
    ))
}

#[test]
fn revealed_new_holds_what_some_reader_may_see() {
    // Outlook-only content, CSS-generated text and mso-hide text, each split like the text.
    for (html, shown) in [
        (
            "<p>Hello,</p><!--[if mso]><p>CANCELLED</p><![endif]--><p>our pentest runs on 1 Dec 2026.</p><p>Best regards<br>Jane</p>",
            "Hello,\nCANCELLED\nour pentest runs on 1 Dec 2026.",
        ),
        (
            "<style>.c::before{content:'CANCELLED'}</style><p>Hello,</p><p class=c>our pentest runs on 1 Dec 2026.</p><p>Best regards<br>Jane</p>",
            "CANCELLED\nHello,\nour pentest runs on 1 Dec 2026.",
        ),
        (
            "<p>Hello,</p><p>our pentest <span style='mso-hide:all'>and load test </span>runs on 1 Dec 2026.</p><p>Best regards<br>Jane</p>",
            "Hello,\nour pentest and load test runs on 1 Dec 2026.",
        ),
    ] {
        let l = read(&html_only(html));
        assert!(!l.text.new.contains("CANCELLED") && !l.text.new.contains("load"));
        assert_eq!(l.revealed_new.as_deref(), Some(shown), "{html}");
        assert!(!l.text.signature.is_empty());
    }
    // Nothing hidden, hidden only in the signature or whitespace: nothing to compare.
    for html in [
        "<p>Hello,</p><p>our pentest runs on 1 Dec 2026.</p>",
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/></o:OfficeDocumentSettings></xml><![endif]--><p>Hello,</p><p>our pentest runs on 1 Dec 2026.</p>",
        "<p>Hello,</p><p>our pentest runs on 1 Dec 2026.</p><p>Best regards<br>Jane<span style=display:none>Sent from my phone</span></p>",
        "<div style='display:none'>&nbsp;&zwnj;&nbsp;</div><p>Hello,</p><p>our pentest runs on 1 Dec 2026.</p>",
    ] {
        assert_eq!(read(&html_only(html)).revealed_new, None, "{html}");
    }
    assert_eq!(read(&crlf(PLAIN)).revealed_new, None);
}

#[test]
fn plain_and_html_agreeing_give_the_same_new_text() {
    let l = read(&crlf(GMAIL));
    assert_eq!(
        l.alt_new.as_deref(),
        Some("HTML: our scanners run from 198.51.100.0/28.")
    );
    assert_eq!(l.text.new, "PLAIN: our scanners run from 198.51.100.0/28.");
}

#[test]
fn alt_new_absent_for_single_renderings_and_stub_plain_parts() {
    assert_eq!(read(&crlf(PLAIN)).alt_new, None);
    let raw = alternative(
        "Please view this message in an HTML capable client.",
        "<p>We plan a load test of www.b.ch on 1 December 2026 from 09:00 to 11:00 CET with 500 requests per second and 200 Mbit/s from 192.0.2.1, contact Anna Muster, +41 44 000 00 00.</p>",
    );
    let l = read(&raw);
    assert!(l.text.new.starts_with("We plan a load test"));
    assert_eq!(l.alt_new, None);
    // An HTML part with only an image says nothing: that disagrees with a plain part that
    // does.
    let l = read(&alternative(
        "Load test from 192.0.2.1 on 1 Dec 2026.",
        "<img src=\"cid:x\"><p style=\"display:none\">x</p>",
    ));
    assert_eq!(l.alt_new.as_deref(), Some(""));
}

/// A short plain part beside a full HTML part is a stub, but what it says is read: a
/// cancellation or a load test written only there must not go unseen (red-team 096/097).
#[test]
fn what_a_stub_plain_part_says_is_read_too() {
    let html = "<p>We plan a penetration test of www.b.ch on 1 December 2026 from 09:00 to 11:00 CET with 500 requests per second and 200 Mbit/s from 192.0.2.1, contact Anna Muster, +41 44 000 00 00.</p><p>The scope covers the shop, the checkout and the customer login; the tests follow the OWASP testing guide and stop at once when you call us.</p>";
    let l = read(&alternative(
        "Hello,\n\nplease disregard the HTML version: this test is cancelled.\n\nLukas",
        html,
    ));
    assert!(
        l.text.new.starts_with("We plan a penetration test"),
        "{}",
        l.text.new
    );
    assert!(
        l.text.new.contains("this test is cancelled"),
        "{}",
        l.text.new
    );
    let l = read(&alternative(
        "Please view this message in an HTML capable client.",
        html,
    ));
    assert!(l.text.new.starts_with("We plan a penetration test"));
    assert!(
        l.text.new.ends_with("HTML capable client."),
        "{}",
        l.text.new
    );
}

#[test]
fn bare_forward_as_attachment_takes_the_attached_alt_new() {
    let inner = String::from_utf8(alternative(
        "We test from 198.51.100.7 on 1 Dec 2026.",
        "<p>We test from 192.0.2.10 on 1 Dec 2026.</p>",
    ))
    .unwrap();
    let raw = format!(
        "From: peter@agency.ch\r\nSubject: Fwd: Pentest\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nFYI\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--m--\r\n"
    );
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "We test from 198.51.100.7 on 1 Dec 2026.");
    assert_eq!(
        l.alt_new.as_deref(),
        Some("We test from 192.0.2.10 on 1 Dec 2026.")
    );
    assert_eq!(l.revealed_new, None);
    // So does the revealed text.
    let inner = String::from_utf8(html_only(
        "<p>We test from 192.0.2.10 on 1 Dec 2026.</p><!--[if mso]><p>CANCELLED</p><![endif]-->",
    ))
    .unwrap();
    let raw = format!(
        "From: peter@agency.ch\r\nSubject: Fwd: Pentest\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nFYI\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--m--\r\n"
    );
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "We test from 192.0.2.10 on 1 Dec 2026.");
    assert_eq!(
        l.revealed_new.as_deref(),
        Some("We test from 192.0.2.10 on 1 Dec 2026.\nCANCELLED")
    );
}

#[test]
fn quoted_thread_in_a_text_attachment_does_not_count() {
    let attachment = "Test plan load test www.customer.ch\r\nSources: 192.0.2.10\r\n\r\n-----Ursprüngliche Nachricht-----\r\nVon: Bob <bob@customer.ch>\r\nGesendet: Montag, 9. November 2026 08:00\r\nAn: Jane\r\nBetreff: plan\r\n\r\nSources: 198.51.100.7\r\n";
    let saved_mail = "From: Bob <bob@customer.ch>\r\nSent: Monday, November 9, 2026 8:00 AM\r\nTo: Jane\r\nSubject: old plan\r\n\r\nSources: 203.0.113.5\r\n";
    let raw = format!(
        "From: jane@customer.ch\r\nSubject: Load test\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nSee the attached plan.\r\n--q\r\nContent-Type: text/plain; name=plan.txt\r\nContent-Disposition: attachment; filename=plan.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n{}--q\r\nContent-Type: text/plain; name=old.eml\r\nContent-Disposition: attachment; filename=old.txt\r\n\r\n{saved_mail}--q--\r\n",
        b64(attachment.as_bytes())
    );
    let l = read(raw.as_bytes());
    assert_eq!(l.text.new, "See the attached plan.");
    assert_eq!(
        l.text.attachments,
        "Test plan load test www.customer.ch\nSources: 192.0.2.10"
    );
    assert!(l.text.quoted.contains("Sources: 198.51.100.7"));
    assert!(l.text.quoted.contains("Sources: 203.0.113.5"));
}

/// Header blocks built to be slow: 100,000 Message-IDs in References, a Content-Type
/// with 100,000 parameters. The results stay bounded and exact.
#[test]
fn huge_reference_lists_and_parameter_lists_stay_bounded() {
    let ids: String = (0..100_000).map(|i| format!(" <id{i}@x.ch>")).collect();
    let params: String = (0..100_000).map(|i| format!("; p{i}=v")).collect();
    let raw = format!(
        "From: a@b.ch\r\nReferences:{ids}\r\nSubject: x\r\nContent-Type: text/plain{params}; charset=utf-8\r\n\r\nBody 192.0.2.1\r\n"
    );
    let l = read(raw.as_bytes());
    assert_eq!(l.references.len(), 500);
    assert_eq!(l.references.first().map(String::as_str), Some("id0@x.ch"));
    assert_eq!(l.text.new, "Body 192.0.2.1");
}
