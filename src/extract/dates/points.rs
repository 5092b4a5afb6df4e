//! Merging adjacent date, time and zone elements into points.

use super::elements::{El, I, Pt};

fn skip(els: &[El], mut k: usize, f: impl Fn(&I) -> bool) -> usize {
    while els.get(k).is_some_and(|e| f(&e.i)) {
        k += 1;
    }
    k
}

/// `14-18 Dec, 09:00-17:00`: the time range is daily, not the end of the day range.
fn keep_time_apart(out: &[El], els: &[El], g: usize) -> bool {
    let mut it = out
        .iter()
        .rev()
        .filter(|e| !matches!(e.i, I::Fill | I::Colon));
    let first = it.next().map(|e| e.i);
    let second = it.next().map(|e| e.i);
    let joined = matches!(first, Some(I::Conn | I::And | I::Comma))
        && matches!(second, Some(I::Pt(p)) if p.time.is_none() && p.has_day());
    if !joined {
        return false;
    }
    let h = skip(els, g + 1, |i| matches!(i, I::Fill | I::Zone(_)));
    matches!(els.get(h).map(|e| e.i), Some(I::Conn))
        && matches!(els.get(h + 1).map(|e| e.i), Some(I::Time(_) | I::Num(_)))
}

pub(super) fn build_points(els: &[El]) -> Vec<El> {
    let mut out: Vec<El> = Vec::with_capacity(els.len());
    let mut k = 0;
    while let Some(el) = els.get(k).copied() {
        let mut pt = Pt {
            pos: el.pos,
            ..Pt::default()
        };
        match el.i {
            I::Date(d) => pt.date = Some(d),
            I::AmbDate => pt.amb = true,
            I::BadDate(b) => {
                pt.bad = Some(b);
                pt.bad_day = true;
            }
            I::Wd(w) => pt.wd = Some(w),
            I::Time(t) => {
                pt.time = Some(t);
                pt.bad = t.bad;
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
                    matches!(i, I::Fill | I::Colon | I::Comma | I::On)
                });
                if let Some(I::Time(t)) = els.get(g).map(|e| e.i)
                    && !keep_time_apart(&out, els, g)
                {
                    pt.time = Some(t);
                    pt.bad = pt.bad.or(t.bad);
                    k = g + 1;
                    continue;
                }
            }
            if pt.time.is_some() && pt.zone.is_none() {
                let g = skip(els, k, |i| matches!(i, I::Fill));
                if let Some(I::Zone(z)) = els.get(g).map(|e| e.i) {
                    pt.zone = Some(z);
                    k = g + 1;
                    continue;
                }
            }
            if pt.time.is_some() && !pt.has_day() {
                let g = skip(els, k, |i| matches!(i, I::On | I::Fill));
                match els.get(g).map(|e| e.i) {
                    Some(I::Date(d)) => {
                        pt.date = Some(d);
                        k = g + 1;
                        continue;
                    }
                    Some(I::AmbDate) => {
                        pt.amb = true;
                        k = g + 1;
                        continue;
                    }
                    Some(I::BadDate(b)) => {
                        pt.bad = pt.bad.or(Some(b));
                        pt.bad_day = true;
                        k = g + 1;
                        continue;
                    }
                    Some(I::Wd(w)) => {
                        pt.wd = Some(w);
                        k = g + 1;
                        continue;
                    }
                    _ => {}
                }
            }
            if pt.date.is_some() {
                // `14.12.2026 (Monday)`: the weekday adds nothing.
                let g = skip(els, k, |i| matches!(i, I::Fill | I::Comma));
                if let Some(I::Wd(_)) = els.get(g).map(|e| e.i)
                    && g > k
                {
                    k = g + 1;
                    continue;
                }
            }
            break;
        }
        out.push(El {
            i: I::Pt(pt),
            pos: pt.pos,
        });
    }
    out
}
