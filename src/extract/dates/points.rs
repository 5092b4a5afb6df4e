//! Merging adjacent date, time and zone elements into points.

use super::elements::{Element, ElementKind, Point};

fn skip(els: &[Element], mut k: usize, f: impl Fn(&ElementKind) -> bool) -> usize {
    while els.get(k).is_some_and(|e| f(&e.kind)) {
        k += 1;
    }
    k
}

/// `14-18 Dec, 09:00-17:00`: the time range is daily, not the end of the day range.
fn keep_time_apart(out: &[Element], els: &[Element], g: usize) -> bool {
    let mut it = out
        .iter()
        .rev()
        .filter(|e| !matches!(e.kind, ElementKind::Filler | ElementKind::Colon));
    let first = it.next().map(|e| e.kind);
    let second = it.next().map(|e| e.kind);
    let joined = matches!(
        first,
        Some(ElementKind::Connector | ElementKind::And | ElementKind::Comma)
    ) && matches!(second, Some(ElementKind::Point(p)) if p.time.is_none() && p.has_day());
    if !joined {
        return false;
    }
    let h = skip(els, g + 1, |i| {
        matches!(i, ElementKind::Filler | ElementKind::Zone(_))
    });
    matches!(els.get(h).map(|e| e.kind), Some(ElementKind::Connector))
        && matches!(
            els.get(h + 1).map(|e| e.kind),
            Some(ElementKind::Time(_) | ElementKind::Num(_))
        )
}

pub(super) fn build_points(els: &[Element]) -> Vec<Element> {
    let mut out: Vec<Element> = Vec::with_capacity(els.len());
    let mut k = 0;
    while let Some(el) = els.get(k).copied() {
        let mut pt = Point {
            pos: el.pos,
            ..Point::default()
        };
        match el.kind {
            ElementKind::Date(d) => pt.date = Some(d),
            ElementKind::AmbiguousDate => pt.ambiguous = true,
            ElementKind::ImpossibleDate(b) => {
                pt.impossible = Some(b);
                pt.impossible_day = true;
            }
            ElementKind::Weekday(w) => pt.weekday = Some(w),
            ElementKind::Time(t) => {
                pt.time = Some(t);
                pt.impossible = t.impossible;
            }
            _ => {
                out.push(el);
                k += 1;
                continue;
            }
        }
        k += 1;
        loop {
            if pt.has_day() && pt.time.is_none() {
                let g = skip(els, k, |i| {
                    matches!(
                        i,
                        ElementKind::Filler
                            | ElementKind::Colon
                            | ElementKind::Comma
                            | ElementKind::On
                    )
                });
                if let Some(ElementKind::Time(t)) = els.get(g).map(|e| e.kind)
                    && !keep_time_apart(&out, els, g)
                {
                    pt.time = Some(t);
                    pt.impossible = pt.impossible.or(t.impossible);
                    k = g + 1;
                    continue;
                }
            }
            if pt.time.is_some() && pt.zone.is_none() {
                let g = skip(els, k, |i| matches!(i, ElementKind::Filler));
                if let Some(ElementKind::Zone(z)) = els.get(g).map(|e| e.kind) {
                    pt.zone = Some(z);
                    k = g + 1;
                    continue;
                }
            }
            if pt.time.is_some() && !pt.has_day() {
                let g = skip(els, k, |i| {
                    matches!(i, ElementKind::On | ElementKind::Filler)
                });
                match els.get(g).map(|e| e.kind) {
                    Some(ElementKind::Date(d)) => {
                        pt.date = Some(d);
                        k = g + 1;
                        continue;
                    }
                    Some(ElementKind::AmbiguousDate) => {
                        pt.ambiguous = true;
                        k = g + 1;
                        continue;
                    }
                    Some(ElementKind::ImpossibleDate(b)) => {
                        pt.impossible = pt.impossible.or(Some(b));
                        pt.impossible_day = true;
                        k = g + 1;
                        continue;
                    }
                    Some(ElementKind::Weekday(w)) => {
                        pt.weekday = Some(w);
                        k = g + 1;
                        continue;
                    }
                    _ => {}
                }
            }
            if pt.date.is_some() {
                // `14.12.2026 (Monday)`: the weekday adds nothing.
                let g = skip(els, k, |i| {
                    matches!(i, ElementKind::Filler | ElementKind::Comma)
                });
                if let Some(ElementKind::Weekday(_)) = els.get(g).map(|e| e.kind)
                    && g > k
                {
                    k = g + 1;
                    continue;
                }
            }
            break;
        }
        out.push(Element {
            kind: ElementKind::Point(pt),
            pos: pt.pos,
        });
    }
    out
}
