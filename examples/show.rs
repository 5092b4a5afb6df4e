#![allow(clippy::expect_used)]
//! Prints how intake reads a message: the new text, quoted text, signature, attachments.
fn main() {
    for path in std::env::args().skip(1) {
        let raw = std::fs::read(&path).expect("readable file");
        let l = intake::read::read(&raw);
        println!(
            "=== {path}\nfrom={:?} name={:?} subject={:?} automated={:?} unreadable={:?}",
            l.from, l.from_name, l.subject, l.automated, l.unreadable
        );
        println!(
            "--- new\n{}\n--- quoted ({} bytes)\n--- signature\n{}\n--- attachments\n{}",
            l.text.new,
            l.text.quoted.len(),
            l.text.signature,
            l.text.attachments
        );
        if let Some(r) = &l.revealed_new {
            println!("--- revealed new text (hidden HTML shown)\n{r}");
        }
    }
}
