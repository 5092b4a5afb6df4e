//! Pass 1, the tokenizer: text to numbers, words (classified against the keyword table),
//! punctuation and hard line breaks; soft-wrapped lines are joined.

use super::keywords::{KEYWORDS, Keyword};

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// A run of digits: its value (saturating) and how many digits were written.
    Num {
        value: u32,
        digits: u8,
    },
    /// A word, classified against the keyword table; `upper` when all capitals (only kept
    /// for zone abbreviations).
    Word {
        keyword: Keyword,
        upper: bool,
    },
    /// Any other character: ASCII punctuation as itself, bullets as `*`, other symbols as `~`.
    Punct(u8),
    /// En or em dash: a range connector.
    Dash,
    /// U+2212 minus sign.
    Minus,
    /// A hard line break; `para` when a blank line follows.
    LineBreak {
        paragraph: bool,
    },
    Tab,
}

/// One token: its kind, where it lies in the text, and whether whitespace precedes it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    /// Byte range in the text.
    pub(super) start: usize,
    pub(super) end: usize,
    /// Whitespace (or a soft line break) precedes the token.
    pub(super) spaced: bool,
}

const WORD_BUF: usize = 24;

pub(super) fn tokenize(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut toks = Vec::with_capacity(b.len() / 3 + 4);
    let mut i = 0usize;
    let mut sp = true;
    let mut line_start = 0usize;
    let mut line_tab = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'\n' => {
                let mut j = i;
                let mut nl = 0;
                while let Some(&x) = b.get(j) {
                    match x {
                        b'\n' => nl += 1,
                        b'\r' | b' ' | b'\t' => {}
                        _ => break,
                    }
                    j += 1;
                }
                let prev = text.get(line_start..i).unwrap_or("").trim();
                // Plain-text mails are hard-wrapped near 72 columns: a long line that does not
                // end a heading continues on the next one, unless that one is a list item or label.
                let soft = nl == 1
                    && !line_tab
                    && prev.len() >= 40
                    && !prev.ends_with(':')
                    && !next_line_is_special(b, j);
                if !soft {
                    toks.push(Token {
                        kind: TokenKind::LineBreak { paragraph: nl >= 2 },
                        start: i,
                        end: i + 1,
                        spaced: true,
                    });
                }
                sp = true;
                line_start = j;
                line_tab = false;
                i = j;
            }
            b' ' | b'\r' | 0x0b | 0x0c => {
                sp = true;
                i += 1;
                while b.get(i) == Some(&b' ') {
                    i += 1;
                }
            }
            b'\t' => {
                toks.push(Token {
                    kind: TokenKind::Tab,
                    start: i,
                    end: i + 1,
                    spaced: true,
                });
                line_tab = true;
                sp = true;
                i += 1;
            }
            b'0'..=b'9' => {
                let s = i;
                let mut v: u32 = 0;
                let mut n: u8 = 0;
                while let Some(&d) = b.get(i) {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    v = v.saturating_mul(10).saturating_add(u32::from(d - b'0'));
                    n = n.saturating_add(1);
                    i += 1;
                }
                toks.push(Token {
                    kind: TokenKind::Num {
                        value: v,
                        digits: n,
                    },
                    start: s,
                    end: i,
                    spaced: sp,
                });
                sp = false;
            }
            _ if c.is_ascii_alphabetic() || c >= 0x80 => {
                let ch = if c < 0x80 {
                    c as char
                } else {
                    text.get(i..).and_then(|s| s.chars().next()).unwrap_or(' ')
                };
                if ch.is_alphabetic() {
                    let s = i;
                    let (kw, upper, next) = read_word(text, i);
                    i = next;
                    toks.push(Token {
                        kind: TokenKind::Word { keyword: kw, upper },
                        start: s,
                        end: i,
                        spaced: sp,
                    });
                    sp = false;
                } else {
                    let len = ch.len_utf8().max(1);
                    let t = match ch {
                        '\u{2013}' | '\u{2014}' => Some(TokenKind::Dash),
                        '\u{2212}' => Some(TokenKind::Minus),
                        '\u{2022}' | '\u{00b7}' => Some(TokenKind::Punct(b'*')),
                        _ if ch.is_whitespace() => None,
                        _ => Some(TokenKind::Punct(b'~')),
                    };
                    match t {
                        Some(t) => {
                            toks.push(Token {
                                kind: t,
                                start: i,
                                end: i + len,
                                spaced: sp,
                            });
                            sp = false;
                        }
                        None => sp = true,
                    }
                    i += len;
                }
            }
            _ => {
                toks.push(Token {
                    kind: TokenKind::Punct(c),
                    start: i,
                    end: i + 1,
                    spaced: sp,
                });
                sp = false;
                i += 1;
            }
        }
    }
    toks
}

/// Whether the line starting at byte `j` is a list item, a table row or a `Label:` line.
fn next_line_is_special(b: &[u8], j: usize) -> bool {
    match b.get(j) {
        Some(b'-' | b'*' | b'>' | b'+') => return true,
        Some(0xE2) if b.get(j + 1) == Some(&0x80) && b.get(j + 2) == Some(&0xA2) => return true,
        Some(0xC2) if b.get(j + 1) == Some(&0xB7) => return true,
        _ => {}
    }
    let mut prev = 0u8;
    for k in j..j.saturating_add(30) {
        match b.get(k) {
            None | Some(b'\n') => break,
            Some(b'\t') => return true,
            Some(b':') if prev.is_ascii_alphabetic() => return true,
            Some(&x) => prev = x,
        }
    }
    false
}

/// Reads a word at `i`; returns its keyword, whether it is all capitals, and the end.
fn read_word(text: &str, mut i: usize) -> (Keyword, bool, usize) {
    let b = text.as_bytes();
    // Fast path: a plain ASCII word, by far the most common token.
    let start = i;
    let j = start
        + b.get(start..)
            .unwrap_or(&[])
            .iter()
            .position(|c| !c.is_ascii_alphabetic())
            .unwrap_or(b.len() - start);
    if b.get(j).is_none_or(|&c| c < 0x80) {
        let word = b.get(start..j).unwrap_or(&[]);
        let kw = match KEYWORDS.get(word) {
            Some(kw) => kw,
            None if word.len() >= 7 => compound_kw(word),
            None => Keyword::None,
        };
        // Capitals only matter for zone abbreviations (`EST` vs `est`, `IST` vs `ist`).
        let upper = matches!(
            kw,
            Keyword::Abbreviation(..)
                | Keyword::AmbiguousZone(_)
                | Keyword::RegionAbbr(_)
                | Keyword::Place(_)
                | Keyword::Z
        ) && word.iter().all(|c| c.is_ascii_uppercase());
        return (kw, upper, j);
    }
    let mut buf = [0u8; WORD_BUF];
    let mut n = 0usize;
    let mut ok = true;
    let mut upper = true;
    let mut push = |x: u8, n: &mut usize, ok: &mut bool| {
        if let Some(slot) = buf.get_mut(*n) {
            *slot = x;
            *n += 1;
        } else {
            *ok = false;
        }
    };
    while let Some(&c) = b.get(i) {
        if c.is_ascii_alphabetic() {
            if c.is_ascii_lowercase() {
                upper = false;
            }
            push(c.to_ascii_lowercase(), &mut n, &mut ok);
            i += 1;
        } else if c >= 0x80 {
            let Some(ch) = text.get(i..).and_then(|s| s.chars().next()) else {
                break;
            };
            if !ch.is_alphabetic() {
                break;
            }
            if ch.is_lowercase() {
                upper = false;
            }
            // Fold umlauts the German way so `März` and `Maerz` meet.
            match ch {
                'ä' | 'Ä' => {
                    push(b'a', &mut n, &mut ok);
                    push(b'e', &mut n, &mut ok);
                }
                'ö' | 'Ö' => {
                    push(b'o', &mut n, &mut ok);
                    push(b'e', &mut n, &mut ok);
                }
                'ü' | 'Ü' => {
                    push(b'u', &mut n, &mut ok);
                    push(b'e', &mut n, &mut ok);
                }
                'ß' => {
                    push(b's', &mut n, &mut ok);
                    push(b's', &mut n, &mut ok);
                }
                'é' | 'è' | 'ê' | 'É' => push(b'e', &mut n, &mut ok),
                'à' | 'â' | 'á' => push(b'a', &mut n, &mut ok),
                _ => ok = false,
            }
            i += ch.len_utf8();
        } else {
            break;
        }
    }
    let word = buf.get(..n).unwrap_or(&[]);
    let kw = if ok {
        KEYWORDS.get(word).unwrap_or_else(|| compound_kw(word))
    } else {
        compound_kw(word)
    };
    (kw, upper, i)
}

/// German compounds (`Lasttestzeitraum`, `Wartungsfenster`) still speak of testing.
fn compound_kw(word: &[u8]) -> Keyword {
    if word.len() < 7 {
        return Keyword::None;
    }
    for (k, &c) in word.iter().enumerate() {
        let rest = word.get(k..).unwrap_or(&[]);
        let starts = |p: &[u8]| {
            rest.get(..p.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(p))
        };
        let hit = match c | 0x20 {
            b't' => starts(b"test"),
            b'f' => starts(b"fenster"),
            b'z' => starts(b"zeitraum"),
            _ => false,
        };
        if hit {
            return Keyword::Context;
        }
    }
    Keyword::None
}
