//! The CSS a mail client applies, reduced to one question: can a reader see this text?
//!
//! Only the properties that hide text are read (display, visibility, opacity, font size,
//! colour against background, collapsed boxes, off-screen positions, clipping, Outlook's
//! `mso-hide`). Style sheets from `<style>` blocks are matched with simple selectors (tag,
//! `.class`, `#id` and compounds of them); everything else is handled conservatively: a rule
//! whose selector is too complex to match exactly is kept only if it hides, and then hides
//! every element its last compound names. All work is linear: rules are indexed by key once,
//! and each element looks at a bounded number of candidates.

use std::collections::HashMap;

/// Most selectors kept from all style sheets together; further hiding rules still hide the
/// elements their key names, further other rules are dropped.
const MAX_RULES: usize = 4096;
/// Selectors longer than this are not parsed; if their rule hides, it hides by key.
const MAX_SELECTOR_LEN: usize = 256;
/// Bytes of a declaration value kept.
const MAX_VALUE: usize = 200;
/// Exact compound selectors checked per element; beyond, a candidate bucket that could hide
/// hides the element (only documents built to be slow get there).
const MAX_CANDIDATES: usize = 64;
/// Classes of one element looked up.
pub(crate) const MAX_CLASSES: usize = 16;
/// Nesting of `@media`/`@supports` blocks followed.
const MAX_AT_DEPTH: usize = 4;
/// Text smaller than this (CSS px) is not readable.
const MIN_FONT_PX: f32 = 3.0;
/// Text whose contrast ratio with its background is below this cannot be told apart from it
/// (#fefefe on white is 1.01, light grey #eee on white 1.16).
const MIN_CONTRAST: f32 = 1.1;
/// A box moved further than this (px) up or left is off screen.
const OFFSCREEN_PX: f32 = 300.0;
/// A box pushed further right than this (px) is outside any mail window.
const FAR_RIGHT_PX: f32 = 3_000.0;

/// The properties read; everything else is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prop {
    Display,
    Visibility,
    Opacity,
    FontSize,
    Color,
    Background,
    BackgroundColor,
    BackgroundImage,
    Height,
    MaxHeight,
    Width,
    MaxWidth,
    Overflow,
    Position,
    Left,
    Top,
    TextIndent,
    MarginLeft,
    MarginTop,
    PaddingLeft,
    Clip,
    ClipPath,
    MsoHide,
    Transform,
    Filter,
    /// The `font` shorthand (its size).
    Font,
    /// `-webkit-text-fill-color`: paints the text instead of `color` in WebKit and Blink
    /// (Apple Mail, Gmail in Chrome).
    TextFill,
    Zoom,
    ContentVisibility,
    LetterSpacing,
    /// `unicode-bidi: bidi-override` shows text reversed: what is seen is not what is read.
    UnicodeBidi,
}

const PROPS: usize = 31;

impl Prop {
    fn parse(name: &str) -> Option<Prop> {
        let n = name.trim();
        let eq = |s: &str| n.eq_ignore_ascii_case(s);
        Some(if eq("display") {
            Prop::Display
        } else if eq("visibility") {
            Prop::Visibility
        } else if eq("opacity") {
            Prop::Opacity
        } else if eq("font-size") {
            Prop::FontSize
        } else if eq("font") {
            Prop::Font
        } else if eq("color") {
            Prop::Color
        } else if eq("background") {
            Prop::Background
        } else if eq("background-color") {
            Prop::BackgroundColor
        } else if eq("background-image") {
            Prop::BackgroundImage
        } else if eq("height") {
            Prop::Height
        } else if eq("max-height") {
            Prop::MaxHeight
        } else if eq("width") {
            Prop::Width
        } else if eq("max-width") {
            Prop::MaxWidth
        } else if eq("overflow") || eq("overflow-x") || eq("overflow-y") {
            Prop::Overflow
        } else if eq("position") {
            Prop::Position
        } else if eq("left") || eq("right") {
            Prop::Left
        } else if eq("top") || eq("bottom") {
            Prop::Top
        } else if eq("text-indent") {
            Prop::TextIndent
        } else if eq("margin-left") || eq("margin-right") {
            Prop::MarginLeft
        } else if eq("padding-left") {
            Prop::PaddingLeft
        } else if eq("margin-top") {
            Prop::MarginTop
        } else if eq("clip") {
            Prop::Clip
        } else if eq("clip-path") || eq("-webkit-clip-path") {
            Prop::ClipPath
        } else if eq("mso-hide") {
            Prop::MsoHide
        } else if eq("transform") || eq("-webkit-transform") {
            Prop::Transform
        } else if eq("filter") {
            Prop::Filter
        } else if eq("-webkit-text-fill-color") {
            Prop::TextFill
        } else if eq("zoom") {
            Prop::Zoom
        } else if eq("content-visibility") {
            Prop::ContentVisibility
        } else if eq("letter-spacing") {
            Prop::LetterSpacing
        } else if eq("unicode-bidi") {
            Prop::UnicodeBidi
        } else {
            return None;
        })
    }
}

/// Where a declaration comes from, lowest first (CSS cascade: presentational attributes,
/// then style sheets, then the `style` attribute; `!important` above all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Origin {
    Attribute,
    Sheet,
    Inline,
}

/// Cascade rank of a declaration: compared field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rank {
    important: bool,
    origin: Origin,
    /// (ids, classes, tags) packed.
    specificity: u32,
    order: u32,
}

#[derive(Debug, Clone)]
struct Decl {
    prop: Prop,
    important: bool,
    /// Lowercase, trimmed, without `!important`.
    value: String,
}

/// Winning declarations of one element, per property.
#[derive(Debug)]
pub(crate) struct Cascade<'a> {
    slots: [Option<(Rank, &'a str)>; PROPS],
}

impl<'a> Cascade<'a> {
    pub(crate) fn new() -> Cascade<'a> {
        Cascade {
            slots: [None; PROPS],
        }
    }

    fn put(&mut self, prop: Prop, rank: Rank, value: &'a str) {
        if let Some(slot) = self.slots.get_mut(prop as usize)
            && slot.is_none_or(|(r, _)| r <= rank)
        {
            *slot = Some((rank, value));
        }
    }

    fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    fn get(&self, prop: Prop) -> Option<&'a str> {
        self.slots
            .get(prop as usize)
            .copied()
            .flatten()
            .map(|(_, v)| v)
    }

    /// A presentational attribute (`bgcolor`, `<font color>`): below any CSS.
    pub(crate) fn attribute(&mut self, prop: Prop, value: &'a str) {
        let rank = Rank {
            important: false,
            origin: Origin::Attribute,
            specificity: 0,
            order: 0,
        };
        self.put(prop, rank, value);
    }

    /// Declarations of a `style` attribute, already parsed by [`parse_block`].
    pub(crate) fn inline(&mut self, decls: &'a [InlineDecl]) {
        for (i, d) in decls.iter().enumerate() {
            let rank = Rank {
                important: d.0.important,
                origin: Origin::Inline,
                specificity: 0,
                order: u32::try_from(i).unwrap_or(u32::MAX),
            };
            self.put(d.0.prop, rank, &d.0.value);
        }
    }
}

/// One declaration of a `style` attribute.
#[derive(Debug, Clone)]
pub(crate) struct InlineDecl(Decl);

/// Parses a `style` attribute.
pub(crate) fn parse_inline(style: &str) -> Vec<InlineDecl> {
    let mut out = Vec::new();
    parse_block(&strip_comments(style), &mut |d| out.push(InlineDecl(d)));
    out
}

/// Removes `/* */` comments and the `<!--`/`-->` that mail HTML wraps style blocks in.
pub(crate) fn strip_comments(css: &str) -> std::borrow::Cow<'_, str> {
    if !css.contains("/*") && !css.contains("<!--") && !css.contains("-->") {
        return std::borrow::Cow::Borrowed(css);
    }
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(p) = rest.find("/*") {
        out.push_str(rest.get(..p).unwrap_or(""));
        out.push(' ');
        match rest.get(p + 2..).and_then(|r| r.find("*/").map(|e| (r, e))) {
            Some((r, e)) => rest = r.get(e + 2..).unwrap_or(""),
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out.replace("<!--", " ").replace("-->", " "))
}

/// The declarations we read in `name: value [!important]; ...`: one per property (the one
/// that wins within the block), so a block costs at most `PROPS` entries however long it is.
fn parse_block(block: &str, f: &mut dyn FnMut(Decl)) {
    let mut winners: [Option<Decl>; PROPS] = Default::default();
    for part in block.split(';') {
        let Some((name, value)) = part.split_once(':') else {
            continue;
        };
        let name = unescape(name);
        let Some(prop) = Prop::parse(&name) else {
            continue;
        };
        let mut value = unescape(value).trim().to_ascii_lowercase();
        let mut important = false;
        if let Some(p) = value.find('!') {
            important = value
                .get(p + 1..)
                .is_some_and(|r| r.trim().starts_with("important"));
            value.truncate(p);
        }
        // Whitespace runs collapsed, and only the start kept: every value we read is
        // decided by its first words, and a sheet value is looked at once per element.
        let mut value = if value.contains(['\t', '\n', '\r', '\x0c']) || value.contains("  ") {
            value.split_whitespace().collect::<Vec<_>>().join(" ")
        } else {
            value.trim().to_string()
        };
        if value.len() > MAX_VALUE {
            let mut end = MAX_VALUE;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value.truncate(end);
        }
        if let Some(slot) = winners.get_mut(prop as usize)
            && slot.as_ref().is_none_or(|w| important || !w.important)
        {
            *slot = Some(Decl {
                prop,
                important,
                value,
            });
        }
    }
    for d in winners.into_iter().flatten() {
        f(d);
    }
}

/// Resolves CSS escapes (`n\6f ne` is `none`, `\:` is `:`), which browsers apply to
/// property names and values.
fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\\') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let mut hex = String::new();
        while hex.len() < 6
            && let Some(&h) = chars.peek()
            && h.is_ascii_hexdigit()
        {
            hex.push(h);
            chars.next();
        }
        if hex.is_empty() {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            if chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                chars.next();
            }
            let n = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
            out.push(
                char::from_u32(n)
                    .filter(|&c| c != '\0')
                    .unwrap_or('\u{fffd}'),
            );
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Collects the quoted strings of the `content` declarations in `css` (a style sheet or a
/// `style` attribute): the text CSS generates (`.x::before{content:'...'}`). CSS escapes are
/// resolved in strings and in the property name (`c\6f ntent`); comments and strings are
/// skipped as wholes, so a `content` inside them is not read. One pass over the input; at
/// most `room` bytes are collected (`room` is reduced by what was taken).
pub(crate) fn content_strings(css: &str, out: &mut Vec<String>, room: &mut usize) {
    let b = css.as_bytes();
    let mut i = 0usize;
    while i < b.len() && *room > 0 {
        let c = b.get(i).copied().unwrap_or(0);
        if c == b'"' || c == b'\'' {
            i = css_string(css, i).1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = css_comment_end(b, i);
        } else if is_ident_byte(c) {
            let (name, next) = css_ident(css, i);
            i = next;
            if !name.eq_ignore_ascii_case("content") {
                continue;
            }
            let mut j = i;
            loop {
                match b.get(j) {
                    Some(w) if w.is_ascii_whitespace() => j += 1,
                    Some(b'/') if b.get(j + 1) == Some(&b'*') => j = css_comment_end(b, j),
                    _ => break,
                }
            }
            if b.get(j) != Some(&b':') {
                continue;
            }
            i = j + 1;
            // The value, up to the end of the declaration.
            while let Some(&v) = b.get(i) {
                match v {
                    b';' | b'}' | b'{' => break,
                    b'"' | b'\'' => {
                        let (s, next) = css_string(css, i);
                        i = next;
                        if !s.is_empty() {
                            let mut s = s;
                            if s.len() > *room {
                                let mut end = *room;
                                while !s.is_char_boundary(end) {
                                    end -= 1;
                                }
                                s.truncate(end);
                            }
                            *room = room.saturating_sub(s.len().max(1));
                            out.push(s);
                        }
                    }
                    b'/' if b.get(i + 1) == Some(&b'*') => i = css_comment_end(b, i),
                    b'\\' => i += 2,
                    _ => i += 1,
                }
            }
        } else {
            i += 1;
        }
    }
}

/// Bytes that can be part of a CSS identifier (non-ASCII and escapes included).
fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'\\' || c >= 0x80
}

/// Position after the comment starting with `/*` at `i` (the end of `b` when unclosed).
fn css_comment_end(b: &[u8], i: usize) -> usize {
    b.get(i + 2..)
        .and_then(|r| r.windows(2).position(|w| w == b"*/"))
        .map_or(b.len(), |p| i + 2 + p + 2)
}

/// Reads one CSS escape after a `\` (the chars following it): a hex code point (up to six
/// digits and one whitespace) or the escaped character itself; a line break after `\` is a
/// line continuation (nothing). Returns the character, if any.
fn css_escape(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<char> {
    let mut n: u32 = 0;
    let mut digits = 0;
    while digits < 6
        && let Some(&(_, h)) = chars.peek()
        && let Some(d) = h.to_digit(16)
    {
        n = n * 16 + d;
        digits += 1;
        chars.next();
    }
    if digits > 0 {
        if chars.peek().is_some_and(|(_, c)| c.is_ascii_whitespace()) {
            chars.next();
        }
        return Some(
            char::from_u32(n)
                .filter(|&c| c != '\0')
                .unwrap_or('\u{fffd}'),
        );
    }
    match chars.next() {
        Some((_, '\n' | '\r' | '\x0c')) | None => None,
        Some((_, c)) => Some(c),
    }
}

/// The CSS string starting with its quote at `i`, escapes resolved, and the position after
/// it. As in CSS, an unescaped line break ends an unclosed string.
fn css_string(css: &str, i: usize) -> (String, usize) {
    let Some(rest) = css.get(i..) else {
        return (String::new(), css.len());
    };
    let mut chars = rest.char_indices().peekable();
    let Some((_, quote)) = chars.next() else {
        return (String::new(), css.len());
    };
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            _ if c == quote => return (out, i + at + c.len_utf8()),
            '\n' | '\r' | '\x0c' => return (out, i + at),
            '\\' => {
                if let Some(e) = css_escape(&mut chars) {
                    out.push(e);
                }
            }
            _ => out.push(c),
        }
    }
    (out, css.len())
}

/// The CSS identifier starting at `i`, escapes resolved, and the position after it.
fn css_ident(css: &str, i: usize) -> (String, usize) {
    let Some(rest) = css.get(i..) else {
        // Inside a character (after a skipped escape): step over the byte.
        return (String::new(), i + 1);
    };
    let mut chars = rest.char_indices().peekable();
    let mut out = String::new();
    while let Some(&(at, c)) = chars.peek() {
        if c == '\\' {
            chars.next();
            if let Some(e) = css_escape(&mut chars) {
                out.push(e);
            }
        } else if c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii() {
            out.push(c);
            chars.next();
        } else {
            return (out, i + at);
        }
    }
    (out, css.len())
}

/// An RGB colour with alpha (0..=255).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

const BLACK: Rgba = Rgba {
    r: 0,
    g: 0,
    b: 0,
    a: 255,
};
const WHITE: Rgba = Rgba {
    r: 255,
    g: 255,
    b: 255,
    a: 255,
};
/// Links are drawn in the client's link colour, not inherited.
const LINK_BLUE: Rgba = Rgba {
    r: 0x11,
    g: 0x55,
    b: 0xcc,
    a: 255,
};

/// What a reader sees at one point of the document (inherited down the element tree).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Vis {
    /// Not rendered at all, and no descendant can change that: `display:none`, `opacity:0`,
    /// off screen, clipped away, a collapsed box, `mso-hide:all`, `hidden`, `<template>`.
    pub gone: bool,
    /// `visibility:hidden`: inherited, but a descendant may say `visible` again.
    pub invisible: bool,
    /// Computed font size (px).
    pub font_px: f32,
    /// Text colour; `None` when unknown (then never taken as hidden).
    pub color: Option<Rgba>,
    /// `-webkit-text-fill-color`, where set: text is hidden if either paint is.
    pub fill: Option<Rgba>,
    /// Background behind the element; `None` when it is an image or unknown.
    pub bg: Option<Rgba>,
    /// Shown reversed (`unicode-bidi: bidi-override`): never read, not even when hidden text
    /// is revealed, since what is seen is not what the characters say.
    pub reversed: bool,
}

impl Vis {
    /// The document root as mail clients show it: black 16px text on white.
    pub(crate) fn root() -> Vis {
        Vis {
            gone: false,
            invisible: false,
            font_px: 16.0,
            color: Some(BLACK),
            fill: None,
            bg: Some(WHITE),
            reversed: false,
        }
    }

    /// Whether text at this point cannot be seen.
    pub(crate) fn hidden(&self) -> bool {
        self.gone
            || self.invisible
            || self.font_px < MIN_FONT_PX
            || match (self.color, self.bg) {
                (Some(c), Some(bg)) => same_looking(c, bg),
                _ => false,
            }
            || match (self.fill, self.bg) {
                (Some(c), Some(bg)) => same_looking(c, bg),
                _ => false,
            }
    }

    /// The state of a child element whose own declarations are `c`. `link` marks an `<a href>`
    /// (drawn in link colour unless it sets its own). `hidden_attr` is the `hidden` attribute
    /// (a `display:none` that CSS may override).
    pub(crate) fn child(&self, c: &Cascade<'_>, link: bool, hidden_attr: bool) -> Vis {
        // Nothing declared, no link, no `hidden`: every test below leaves the state as it
        // is (many elements, `<o:p>` and the like, have no style at all).
        if !link && !hidden_attr && c.is_empty() {
            return *self;
        }
        let mut v = *self;
        if link && c.get(Prop::Color).is_none() {
            v.color = Some(LINK_BLUE);
        }
        let display = c.get(Prop::Display);
        if display.is_some_and(|d| first_word(d) == "none") || (hidden_attr && display.is_none()) {
            v.gone = true;
        }
        if let Some(x) = c.get(Prop::Visibility) {
            match first_word(x) {
                "hidden" | "collapse" => v.invisible = true,
                "visible" => v.invisible = false,
                _ => {}
            }
        }
        if c.get(Prop::Opacity)
            .and_then(number_or_percent)
            .is_some_and(|o| o < 0.1)
        {
            v.gone = true;
        }
        if c.get(Prop::Filter)
            .is_some_and(|f| f.contains("opacity(0") && !f.contains("opacity(0."))
        {
            v.gone = true;
        }
        if c.get(Prop::MsoHide).is_some_and(|x| first_word(x) == "all")
            || c.get(Prop::ContentVisibility)
                .is_some_and(|x| first_word(x) == "hidden")
            || c.get(Prop::Zoom)
                .and_then(number_or_percent)
                .is_some_and(|z| z < 0.2)
            || c.get(Prop::LetterSpacing)
                .and_then(px_length)
                .is_some_and(|l| l <= -5.0)
        {
            v.gone = true;
        }
        if c.get(Prop::UnicodeBidi)
            .is_some_and(|x| x.contains("override"))
        {
            v.gone = true;
            v.reversed = true;
        }
        if let Some(fill) = c.get(Prop::TextFill) {
            match first_word(fill) {
                "inherit" => {}
                "currentcolor" => v.fill = None,
                w => v.fill = parse_color(w),
            }
        }
        let font = c
            .get(Prop::FontSize)
            .or_else(|| c.get(Prop::Font).and_then(font_shorthand_size));
        if let Some(f) = font
            && let Some(px) = font_px(f, self.font_px)
        {
            v.font_px = px;
        }
        if let Some(col) = c.get(Prop::Color) {
            match first_word(col) {
                "inherit" | "currentcolor" => {}
                w => v.color = parse_color(w),
            }
        }
        // Background: the last of background-color / background that names something.
        let mut bg_set = false;
        for prop in [Prop::Background, Prop::BackgroundColor] {
            if let Some(b) = c.get(prop) {
                if b.contains("url(") || b.contains("gradient(") {
                    v.bg = None;
                    bg_set = true;
                } else if let Some(col) = b.split_whitespace().find_map(parse_color) {
                    if col.a >= 128 {
                        v.bg = Some(blend(col, self.bg.unwrap_or(WHITE)));
                    }
                    bg_set = true;
                }
            }
        }
        if !bg_set
            && c.get(Prop::BackgroundImage)
                .is_some_and(|b| b.contains("url(") || b.contains("gradient("))
        {
            v.bg = None;
        }
        let overflow_hidden = c
            .get(Prop::Overflow)
            .is_some_and(|o| matches!(first_word(o), "hidden" | "clip"));
        let collapsed = |p: Prop| c.get(p).and_then(px_length).is_some_and(|l| l <= 1.0);
        if overflow_hidden
            && (collapsed(Prop::Height)
                || collapsed(Prop::MaxHeight)
                || collapsed(Prop::Width)
                || collapsed(Prop::MaxWidth))
        {
            v.gone = true;
        }
        let far = |p: Prop| {
            c.get(p).is_some_and(|x| {
                px_length(x).is_some_and(|l| l <= -OFFSCREEN_PX || l >= FAR_RIGHT_PX)
                    || percent(x).is_some_and(|p| p <= -100.0)
            })
        };
        let positioned = c
            .get(Prop::Position)
            .is_some_and(|p| matches!(first_word(p), "absolute" | "fixed"));
        if (positioned && (far(Prop::Left) || far(Prop::Top)))
            || far(Prop::TextIndent)
            || far(Prop::MarginLeft)
            || far(Prop::MarginTop)
            || far(Prop::PaddingLeft)
        {
            v.gone = true;
        }
        if positioned && c.get(Prop::Clip).is_some_and(clip_is_empty) {
            v.gone = true;
        }
        if c.get(Prop::ClipPath).is_some_and(clip_path_is_empty) {
            v.gone = true;
        }
        if c.get(Prop::Transform).is_some_and(transform_hides) {
            v.gone = true;
        }
        v
    }
}

/// Text that a reader cannot tell from its background: contrast ratio (WCAG) below
/// [`MIN_CONTRAST`] after blending a translucent colour over the background.
fn same_looking(color: Rgba, bg: Rgba) -> bool {
    let c = blend(color, bg);
    let (l1, l2) = (luminance(c), luminance(bg));
    let (hi, lo) = if l1 > l2 { (l1, l2) } else { (l2, l1) };
    (hi + 0.05) / (lo + 0.05) < MIN_CONTRAST
}

fn blend(top: Rgba, under: Rgba) -> Rgba {
    let a = f32::from(top.a) / 255.0;
    let mix = |t: u8, u: u8| (f32::from(t) * a + f32::from(u) * (1.0 - a)).round() as u8;
    Rgba {
        r: mix(top.r, under.r),
        g: mix(top.g, under.g),
        b: mix(top.b, under.b),
        a: 255,
    }
}

fn luminance(c: Rgba) -> f32 {
    // The linear value of each of the 256 channel values, computed once: every element's
    // visibility asks for the contrast of its text, and `powf` per channel was most of it.
    static LINEAR: std::sync::LazyLock<[f32; 256]> = std::sync::LazyLock::new(|| {
        let mut t = [0f32; 256];
        for (v, x) in (0..=255u8).zip(t.iter_mut()) {
            let s = f32::from(v) / 255.0;
            *x = if s <= 0.039_28 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            };
        }
        t
    });
    let ch = |v: u8| LINEAR.get(usize::from(v)).copied().unwrap_or(0.0);
    0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b)
}

/// The first word of a value; for CSS math (`calc()`, `min()`, `max()`, `clamp()`) the
/// smallest term, so `calc(0 * 1px)` or `min(0px, 1em)` reads as the zero it may be.
fn first_word(s: &str) -> &str {
    let w = s.split_whitespace().next().unwrap_or("");
    if !["calc(", "min(", "max(", "clamp(", "-webkit-calc("]
        .iter()
        .any(|f| s.starts_with(f))
    {
        return w;
    }
    let size = |t: &str| {
        px_length(t)
            .or_else(|| number(t).map(|(n, _)| n))
            .unwrap_or(f32::MAX)
    };
    s.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '*' | '/'))
        .filter(|t| t.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+')))
        .filter(|t| number(t).is_some())
        .min_by(|a, b| size(a).total_cmp(&size(b)))
        .unwrap_or(w)
}

/// Leading number of a value (`0.5`, `-9999px` → -9999, `.5em` → 0.5) and the rest.
fn number(s: &str) -> Option<(f32, &str)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0)))
        .map_or(s.len(), |(i, _)| i);
    let n: f32 = s.get(..end)?.parse().ok()?;
    n.is_finite()
        .then_some((n, s.get(end..).unwrap_or("").trim_start()))
}

fn number_or_percent(s: &str) -> Option<f32> {
    let (n, unit) = number(first_word(s))?;
    if unit.starts_with('%') {
        Some(n / 100.0)
    } else {
        Some(n)
    }
}

fn percent(s: &str) -> Option<f32> {
    let (n, unit) = number(first_word(s))?;
    unit.starts_with('%').then_some(n)
}

/// A length in CSS px; `em`/`rem` at 16px; percentages and unknown units give `None`
/// (a bare `0` is zero in any unit).
fn px_length(s: &str) -> Option<f32> {
    let (n, unit) = number(first_word(s))?;
    px_of(n, unit)
}

/// [`px_length`] of a number already read, with its unit.
fn px_of(n: f32, unit: &str) -> Option<f32> {
    Some(match unit.trim() {
        "" | "px" => n,
        "pt" => n * 4.0 / 3.0,
        "pc" => n * 16.0,
        "in" => n * 96.0,
        "cm" => n * 96.0 / 2.54,
        "mm" => n * 96.0 / 25.4,
        "em" | "rem" | "ex" | "ch" => n * 16.0,
        "vw" | "vh" | "vmin" | "vmax" => n * 10.0,
        _ if n == 0.0 => 0.0,
        _ => return None,
    })
}

/// Computed font size of `value` given the parent's.
fn font_px(value: &str, parent: f32) -> Option<f32> {
    let w = first_word(value);
    Some(match w {
        "xx-small" => 9.0,
        "x-small" => 10.0,
        "small" => 13.0,
        "medium" => 16.0,
        "large" => 18.0,
        "x-large" => 24.0,
        "xx-large" => 32.0,
        "xxx-large" => 48.0,
        "smaller" => parent / 1.2,
        "larger" => parent * 1.2,
        _ => {
            let (n, unit) = number(w)?;
            match unit.trim() {
                "em" | "ex" | "ch" => n * parent,
                "%" => n * parent / 100.0,
                "rem" => n * 16.0,
                // `px_length(w)`: `w` is one word that starts a number, so its first word
                // is itself, and the number just read need not be read again.
                _ => px_of(n, unit)?,
            }
        }
    })
}

/// The size in a `font` shorthand (`bold 0px/0 Arial` → `0px`).
fn font_shorthand_size(value: &str) -> Option<&str> {
    value.split_whitespace().find_map(|w| {
        let size = w.split('/').next().unwrap_or(w);
        (size.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && font_px(size, 16.0).is_some())
        .then_some(size)
    })
}

/// `clip: rect(0 0 0 0)` and the like: a rectangle with no area.
fn clip_is_empty(value: &str) -> bool {
    let Some(inner) = value
        .trim()
        .strip_prefix("rect(")
        .and_then(|r| r.strip_suffix(')'))
    else {
        return false;
    };
    let nums: Vec<f32> = inner
        .split([',', ' '])
        .filter(|p| !p.trim().is_empty())
        .filter_map(|p| px_length(p).or(if p.trim() == "auto" { Some(1e6) } else { None }))
        .collect();
    // rect(top, right, bottom, left): empty when bottom <= top or right <= left.
    match nums.as_slice() {
        [t, r, b, l] => b - t <= 1.0 || r - l <= 1.0,
        _ => false,
    }
}

/// `clip-path: inset(50%)` (or more), `circle(0)`, `polygon(0 0, 0 0, 0 0)`.
fn clip_path_is_empty(value: &str) -> bool {
    let v = value.trim();
    if let Some(inner) = v.strip_prefix("inset(") {
        return inner
            .split([' ', ')'])
            .find_map(percent)
            .is_some_and(|p| p >= 50.0)
            || inner
                .split([' ', ')'])
                .find_map(px_length)
                .is_some_and(|l| l >= 5_000.0);
    }
    if let Some(inner) = v
        .strip_prefix("circle(")
        .or_else(|| v.strip_prefix("ellipse("))
    {
        return inner
            .split([' ', ')'])
            .next()
            .and_then(px_length)
            .is_some_and(|r| r <= 0.5);
    }
    if let Some(inner) = v.strip_prefix("polygon(") {
        let digits: String = inner
            .chars()
            .filter(|c| c.is_ascii_digit() && *c != '0')
            .collect();
        return digits.is_empty();
    }
    false
}

/// `scale(0)`, `scaleX(0)`, `translate(-9999px)`.
fn transform_hides(value: &str) -> bool {
    let v = value.trim();
    for (name, zero) in [
        ("scale(", true),
        ("scalex(", true),
        ("scaley(", true),
        ("translate(", false),
        ("translatex(", false),
        ("translatey(", false),
    ] {
        let mut rest = v;
        while let Some(p) = rest.find(name) {
            let args = rest.get(p + name.len()..).unwrap_or("");
            let first = args.split([',', ')', ' ']).next().unwrap_or("");
            if zero {
                if number(first).is_some_and(|(n, _)| n.abs() < 0.2) {
                    return true;
                }
            } else if px_length(first).is_some_and(|l| l <= -OFFSCREEN_PX) {
                return true;
            }
            rest = args;
        }
    }
    false
}

/// Parses a CSS or HTML colour: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb()`, `rgba()`,
/// `hsl()`, `transparent` and the CSS named colours. HTML attributes also allow a bare hex.
pub(crate) fn parse_color(s: &str) -> Option<Rgba> {
    let s = s.trim().trim_end_matches([',', ';']);
    if s.len() > 80 {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix('#') {
        return parse_hex(hex);
    }
    if let Some(args) = lower
        .strip_prefix("rgba(")
        .or_else(|| lower.strip_prefix("rgb("))
    {
        let vals = func_args(args);
        let ch = |i: usize| -> Option<u8> {
            let v = vals.get(i)?;
            let (n, unit) = number(v)?;
            let n = if unit.starts_with('%') { n * 2.55 } else { n };
            Some(n.clamp(0.0, 255.0).round() as u8)
        };
        let a = vals.get(3).and_then(|v| alpha(v)).unwrap_or(255);
        return Some(Rgba {
            r: ch(0)?,
            g: ch(1)?,
            b: ch(2)?,
            a,
        });
    }
    if let Some(args) = lower
        .strip_prefix("hsla(")
        .or_else(|| lower.strip_prefix("hsl("))
    {
        let vals = func_args(args);
        let h = number(vals.first()?)?.0;
        let sat = number(vals.get(1)?)?.0 / 100.0;
        let l = number(vals.get(2)?)?.0 / 100.0;
        let a = vals.get(3).and_then(|v| alpha(v)).unwrap_or(255);
        let (r, g, b) = hsl_to_rgb(h, sat.clamp(0.0, 1.0), l.clamp(0.0, 1.0));
        return Some(Rgba { r, g, b, a });
    }
    if lower == "transparent" {
        return Some(Rgba {
            r: 0,
            g: 0,
            b: 0,
            a: 0,
        });
    }
    if let Some(rgb) = named_color(&lower) {
        let [_, r, g, b] = rgb.to_be_bytes();
        return Some(Rgba { r, g, b, a: 255 });
    }
    // Legacy attributes (`bgcolor=ffffff`) may omit the `#`.
    if lower.len() == 6 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        return parse_hex(&lower);
    }
    None
}

fn func_args(args: &str) -> Vec<&str> {
    args.trim_end_matches(')')
        .split([',', ' ', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(4)
        .collect()
}

fn alpha(v: &str) -> Option<u8> {
    let (n, unit) = number(v)?;
    let n = if unit.starts_with('%') { n / 100.0 } else { n };
    Some((n.clamp(0.0, 1.0) * 255.0).round() as u8)
}

fn parse_hex(hex: &str) -> Option<Rgba> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let d = |i: usize| -> Option<u8> {
        hex.as_bytes()
            .get(i)
            .and_then(|&b| char::from(b).to_digit(16))
            .and_then(|v| u8::try_from(v).ok())
    };
    let pair = |i: usize| -> Option<u8> { Some(d(i)? * 16 + d(i + 1)?) };
    let single = |i: usize| -> Option<u8> { Some(d(i)? * 17) };
    match hex.len() {
        3 => Some(Rgba {
            r: single(0)?,
            g: single(1)?,
            b: single(2)?,
            a: 255,
        }),
        4 => Some(Rgba {
            r: single(0)?,
            g: single(1)?,
            b: single(2)?,
            a: single(3)?,
        }),
        6 => Some(Rgba {
            r: pair(0)?,
            g: pair(2)?,
            b: pair(4)?,
            a: 255,
        }),
        8 => Some(Rgba {
            r: pair(0)?,
            g: pair(2)?,
            b: pair(4)?,
            a: pair(6)?,
        }),
        _ => None,
    }
}

fn hsl_to_rgb(h: f32, s: f32, l: f32) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = (h.rem_euclid(360.0)) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f32| ((v + m) * 255.0).clamp(0.0, 255.0).round() as u8;
    (to(r), to(g), to(b))
}

/// The CSS named colours (CSS Color 4), as 0xRRGGBB.
fn named_color(name: &str) -> Option<u32> {
    Some(match name {
        "aliceblue" => 0xf0f8ff,
        "antiquewhite" => 0xfaebd7,
        "aqua" | "cyan" => 0x00ffff,
        "aquamarine" => 0x7fffd4,
        "azure" => 0xf0ffff,
        "beige" => 0xf5f5dc,
        "bisque" => 0xffe4c4,
        "black" => 0x000000,
        "blanchedalmond" => 0xffebcd,
        "blue" => 0x0000ff,
        "blueviolet" => 0x8a2be2,
        "brown" => 0xa52a2a,
        "burlywood" => 0xdeb887,
        "cadetblue" => 0x5f9ea0,
        "chartreuse" => 0x7fff00,
        "chocolate" => 0xd2691e,
        "coral" => 0xff7f50,
        "cornflowerblue" => 0x6495ed,
        "cornsilk" => 0xfff8dc,
        "crimson" => 0xdc143c,
        "darkblue" => 0x00008b,
        "darkcyan" => 0x008b8b,
        "darkgoldenrod" => 0xb8860b,
        "darkgray" | "darkgrey" => 0xa9a9a9,
        "darkgreen" => 0x006400,
        "darkkhaki" => 0xbdb76b,
        "darkmagenta" => 0x8b008b,
        "darkolivegreen" => 0x556b2f,
        "darkorange" => 0xff8c00,
        "darkorchid" => 0x9932cc,
        "darkred" => 0x8b0000,
        "darksalmon" => 0xe9967a,
        "darkseagreen" => 0x8fbc8f,
        "darkslateblue" => 0x483d8b,
        "darkslategray" | "darkslategrey" => 0x2f4f4f,
        "darkturquoise" => 0x00ced1,
        "darkviolet" => 0x9400d3,
        "deeppink" => 0xff1493,
        "deepskyblue" => 0x00bfff,
        "dimgray" | "dimgrey" => 0x696969,
        "dodgerblue" => 0x1e90ff,
        "firebrick" => 0xb22222,
        "floralwhite" => 0xfffaf0,
        "forestgreen" => 0x228b22,
        "fuchsia" | "magenta" => 0xff00ff,
        "gainsboro" => 0xdcdcdc,
        "ghostwhite" => 0xf8f8ff,
        "gold" => 0xffd700,
        "goldenrod" => 0xdaa520,
        "gray" | "grey" => 0x808080,
        "green" => 0x008000,
        "greenyellow" => 0xadff2f,
        "honeydew" => 0xf0fff0,
        "hotpink" => 0xff69b4,
        "indianred" => 0xcd5c5c,
        "indigo" => 0x4b0082,
        "ivory" => 0xfffff0,
        "khaki" => 0xf0e68c,
        "lavender" => 0xe6e6fa,
        "lavenderblush" => 0xfff0f5,
        "lawngreen" => 0x7cfc00,
        "lemonchiffon" => 0xfffacd,
        "lightblue" => 0xadd8e6,
        "lightcoral" => 0xf08080,
        "lightcyan" => 0xe0ffff,
        "lightgoldenrodyellow" => 0xfafad2,
        "lightgray" | "lightgrey" => 0xd3d3d3,
        "lightgreen" => 0x90ee90,
        "lightpink" => 0xffb6c1,
        "lightsalmon" => 0xffa07a,
        "lightseagreen" => 0x20b2aa,
        "lightskyblue" => 0x87cefa,
        "lightslategray" | "lightslategrey" => 0x778899,
        "lightsteelblue" => 0xb0c4de,
        "lightyellow" => 0xffffe0,
        "lime" => 0x00ff00,
        "limegreen" => 0x32cd32,
        "linen" => 0xfaf0e6,
        "maroon" => 0x800000,
        "mediumaquamarine" => 0x66cdaa,
        "mediumblue" => 0x0000cd,
        "mediumorchid" => 0xba55d3,
        "mediumpurple" => 0x9370db,
        "mediumseagreen" => 0x3cb371,
        "mediumslateblue" => 0x7b68ee,
        "mediumspringgreen" => 0x00fa9a,
        "mediumturquoise" => 0x48d1cc,
        "mediumvioletred" => 0xc71585,
        "midnightblue" => 0x191970,
        "mintcream" => 0xf5fffa,
        "mistyrose" => 0xffe4e1,
        "moccasin" => 0xffe4b5,
        "navajowhite" => 0xffdead,
        "navy" => 0x000080,
        "oldlace" => 0xfdf5e6,
        "olive" => 0x808000,
        "olivedrab" => 0x6b8e23,
        "orange" => 0xffa500,
        "orangered" => 0xff4500,
        "orchid" => 0xda70d6,
        "palegoldenrod" => 0xeee8aa,
        "palegreen" => 0x98fb98,
        "paleturquoise" => 0xafeeee,
        "palevioletred" => 0xdb7093,
        "papayawhip" => 0xffefd5,
        "peachpuff" => 0xffdab9,
        "peru" => 0xcd853f,
        "pink" => 0xffc0cb,
        "plum" => 0xdda0dd,
        "powderblue" => 0xb0e0e6,
        "purple" => 0x800080,
        "rebeccapurple" => 0x663399,
        "red" => 0xff0000,
        "rosybrown" => 0xbc8f8f,
        "royalblue" => 0x4169e1,
        "saddlebrown" => 0x8b4513,
        "salmon" => 0xfa8072,
        "sandybrown" => 0xf4a460,
        "seagreen" => 0x2e8b57,
        "seashell" => 0xfff5ee,
        "sienna" => 0xa0522d,
        "silver" => 0xc0c0c0,
        "skyblue" => 0x87ceeb,
        "slateblue" => 0x6a5acd,
        "slategray" | "slategrey" => 0x708090,
        "snow" => 0xfffafa,
        "springgreen" => 0x00ff7f,
        "steelblue" => 0x4682b4,
        "tan" => 0xd2b48c,
        "teal" => 0x008080,
        "thistle" => 0xd8bfd8,
        "tomato" => 0xff6347,
        "turquoise" => 0x40e0d0,
        "violet" => 0xee82ee,
        "wheat" => 0xf5deb3,
        "white" => 0xffffff,
        "whitesmoke" => 0xf5f5f5,
        "yellow" => 0xffff00,
        "yellowgreen" => 0x9acd32,
        _ => return None,
    })
}

/// What a selector's last compound requires of an element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Compound {
    tag: Option<String>,
    id: Option<String>,
    classes: Vec<String>,
}

impl Compound {
    fn specificity(&self) -> u32 {
        let ids = u32::from(self.id.is_some());
        let classes = u32::try_from(self.classes.len()).unwrap_or(255).min(255);
        let tags = u32::from(self.tag.is_some());
        (ids << 16) | (classes << 8) | tags
    }

    /// The bucket it is filed under: the id, else the first class, else the tag.
    fn key(&self) -> Key {
        if let Some(id) = &self.id {
            Key::Id(id.clone())
        } else if let Some(c) = self.classes.first() {
            Key::Class(c.clone())
        } else if let Some(t) = &self.tag {
            Key::Tag(t.clone())
        } else {
            Key::Any
        }
    }

    /// Whether it needs nothing beyond its key (then its rules are merged in the bucket).
    fn is_simple(&self) -> bool {
        let parts =
            usize::from(self.id.is_some()) + self.classes.len() + usize::from(self.tag.is_some());
        parts <= 1
    }

    fn matches(&self, el: &Element<'_>) -> bool {
        self.tag.as_deref().is_none_or(|t| t == el.tag)
            && self.id.as_deref().is_none_or(|i| Some(i) == el.id)
            && self
                .classes
                .iter()
                .all(|c| el.classes.contains(&c.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Tag(String),
    Class(String),
    Id(String),
    Any,
}

#[derive(Debug, Default)]
struct Bucket {
    /// Rules whose whole selector is this key, merged: the winning declaration per property.
    simple: Vec<(Decl, Rank)>,
    /// Exact compound selectors filed here.
    compound: Vec<(Compound, Vec<(Decl, Rank)>)>,
    /// Some compound rule here could hide an element.
    compound_hides: bool,
    /// A rule whose selector could not be matched exactly hides what this key names.
    force_gone: bool,
}

/// An element as the selector matcher sees it (lowercase names).
#[derive(Debug)]
pub(crate) struct Element<'a> {
    pub tag: &'a str,
    pub id: Option<&'a str>,
    pub classes: &'a [&'a str],
}

/// The rules of all `<style>` blocks of a document, indexed by key.
#[derive(Debug, Default)]
pub(crate) struct Sheet {
    tags: HashMap<String, Bucket>,
    classes: HashMap<String, Bucket>,
    ids: HashMap<String, Bucket>,
    any: Option<Bucket>,
    rules: usize,
    order: u32,
    /// Compound candidates examined (for tests that pin the work done).
    pub(crate) work: std::cell::Cell<usize>,
}

impl Sheet {
    pub(crate) fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.classes.is_empty() && self.ids.is_empty() && self.any.is_none()
    }

    fn bucket(&mut self, key: Key) -> &mut Bucket {
        match key {
            Key::Tag(k) => self.tags.entry(k).or_default(),
            Key::Class(k) => self.classes.entry(k).or_default(),
            Key::Id(k) => self.ids.entry(k).or_default(),
            Key::Any => self.any.get_or_insert_with(Bucket::default),
        }
    }

    /// Adds the rules of one `<style>` block.
    pub(crate) fn add(&mut self, css: &str) {
        let css = strip_comments(css);
        self.add_rules(&css, 0);
    }

    fn add_rules(&mut self, css: &str, depth: usize) {
        let mut rest = css;
        while !rest.trim().is_empty() {
            let trimmed = rest.trim_start();
            if let Some(at) = trimmed.strip_prefix('@') {
                // `@media q { rules }`, `@supports`, `@font-face {..}`, `@import ...;`.
                // One scan for whichever comes first (two `find`s would each run to the
                // end of the sheet for every `@x;`).
                let stop = at.find(['{', ';']);
                let brace = stop.filter(|&p| at.as_bytes().get(p) == Some(&b'{'));
                let semi = stop.filter(|&p| at.as_bytes().get(p) == Some(&b';'));
                match (brace, semi) {
                    (Some(b), _) => {
                        let prelude = at.get(..b).unwrap_or("").to_ascii_lowercase();
                        let body_start = at.get(b + 1..).unwrap_or("");
                        let (body, after) = matching_brace(body_start);
                        if depth < MAX_AT_DEPTH && at_rule_applies(&prelude) {
                            self.add_rules(body, depth + 1);
                        }
                        rest = after;
                    }
                    (_, Some(s)) => rest = at.get(s + 1..).unwrap_or(""),
                    _ => return,
                }
                continue;
            }
            let Some(open) = trimmed.find('{') else {
                return;
            };
            let selectors = trimmed.get(..open).unwrap_or("");
            let after_open = trimmed.get(open + 1..).unwrap_or("");
            let (block, after) = match after_open.find('}') {
                Some(c) => (
                    after_open.get(..c).unwrap_or(""),
                    after_open.get(c + 1..).unwrap_or(""),
                ),
                None => (after_open, ""),
            };
            self.add_rule(selectors, block);
            rest = after;
        }
    }

    fn add_rule(&mut self, selectors: &str, block: &str) {
        let mut decls = Vec::new();
        parse_block(block, &mut |d| decls.push(d));
        if decls.is_empty() {
            return;
        }
        let hides = block_hides(&decls);
        for sel in selectors.split(',') {
            let sel = sel.trim();
            if sel.is_empty() {
                continue;
            }
            self.order = self.order.saturating_add(1);
            match parse_selector(&unescape(sel)) {
                Parsed::Skip => {}
                Parsed::Loose(c) => {
                    if hides {
                        self.bucket(c.key()).force_gone = true;
                    }
                }
                Parsed::Exact(c) => {
                    self.rules += 1;
                    if self.rules > MAX_RULES {
                        if hides {
                            self.bucket(c.key()).force_gone = true;
                        }
                        continue;
                    }
                    let spec = c.specificity();
                    let ranked: Vec<(Decl, Rank)> = decls
                        .iter()
                        .map(|d| {
                            let rank = Rank {
                                important: d.important,
                                origin: Origin::Sheet,
                                specificity: spec,
                                order: self.order,
                            };
                            (d.clone(), rank)
                        })
                        .collect();
                    let bucket = self.bucket(c.key());
                    if c.is_simple() {
                        for (d, rank) in ranked {
                            match bucket.simple.iter_mut().find(|(x, _)| x.prop == d.prop) {
                                Some(slot) if slot.1 <= rank => *slot = (d, rank),
                                Some(_) => {}
                                None => bucket.simple.push((d, rank)),
                            }
                        }
                    } else {
                        bucket.compound_hides |= hides;
                        bucket.compound.push((c, ranked));
                    }
                }
            }
        }
    }

    /// Adds the matching rules for `el` to `cascade`; true when a rule that could not be
    /// matched exactly hides it.
    pub(crate) fn apply<'s>(&'s self, el: &Element<'_>, cascade: &mut Cascade<'s>) -> bool {
        let mut gone = false;
        let mut budget = MAX_CANDIDATES;
        let mut visit = |bucket: Option<&'s Bucket>, cascade: &mut Cascade<'s>| {
            let Some(b) = bucket else {
                return;
            };
            gone |= b.force_gone;
            for (d, rank) in &b.simple {
                cascade.put(d.prop, *rank, &d.value);
            }
            for (c, decls) in &b.compound {
                if budget == 0 {
                    gone |= b.compound_hides;
                    break;
                }
                budget -= 1;
                self.work.set(self.work.get() + 1);
                if c.matches(el) {
                    for (d, rank) in decls {
                        cascade.put(d.prop, *rank, &d.value);
                    }
                }
            }
        };
        visit(self.any.as_ref(), cascade);
        visit(self.tags.get(el.tag), cascade);
        if let Some(id) = el.id {
            visit(self.ids.get(id), cascade);
        }
        for c in el.classes {
            visit(self.classes.get(*c), cascade);
        }
        gone
    }
}

/// Whether a rule's declarations on their own hide an element (colour left out: whether a
/// colour hides depends on the background where the rule lands).
fn block_hides(decls: &[Decl]) -> bool {
    let mut c = Cascade::new();
    for (i, d) in decls.iter().enumerate() {
        if d.prop == Prop::Color {
            continue;
        }
        let rank = Rank {
            important: d.important,
            origin: Origin::Sheet,
            specificity: 0,
            order: u32::try_from(i).unwrap_or(u32::MAX),
        };
        c.put(d.prop, rank, &d.value);
    }
    let v = Vis::root().child(&c, false, false);
    v.gone || v.invisible || v.font_px < MIN_FONT_PX
}

/// The block up to the `}` that closes it (nested braces counted) and the text after it.
fn matching_brace(s: &str) -> (&str, &str) {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 0 => {
                return (s.get(..i).unwrap_or(""), s.get(i + 1..).unwrap_or(""));
            }
            b'}' => depth -= 1,
            _ => {}
        }
    }
    (s, "")
}

/// Whether the rules inside an `@media`/`@supports` block apply to the view we read: a
/// desktop screen in light mode. Mobile-only (`max-width` below 800px), print and dark-mode
/// blocks do not; unknown at-rules (`@font-face`, `@keyframes`) hold no rules for elements.
fn at_rule_applies(prelude: &str) -> bool {
    let p = prelude.trim();
    if p.starts_with("supports") {
        return true;
    }
    let Some(q) = p.strip_prefix("media") else {
        return false;
    };
    if q.contains("print") && !q.contains("screen") && !q.contains("all") {
        return false;
    }
    if q.contains("prefers-color-scheme") && q.contains("dark") {
        return false;
    }
    for key in ["max-width", "max-device-width"] {
        let mut rest = q;
        while let Some(p) = rest.find(key) {
            let after = rest.get(p + key.len()..).unwrap_or("");
            let v = after.trim_start_matches([':', ' ']);
            if px_length(v.split(')').next().unwrap_or("")).is_some_and(|w| w < 800.0) {
                return false;
            }
            rest = after;
        }
    }
    true
}

enum Parsed {
    /// Matched exactly by its last compound.
    Exact(Compound),
    /// Combinators, attribute or structural pseudo-classes: matched by its last compound
    /// alone, and only kept if it hides.
    Loose(Compound),
    /// Never applies to the text of an element: pseudo-elements, interaction states.
    Skip,
}

fn parse_selector(sel: &str) -> Parsed {
    if sel.len() > MAX_SELECTOR_LEN {
        // Too long to read: its last compound (by key) still hides.
        let tail = sel
            .rsplit([' ', '>', '+', '~'])
            .next()
            .unwrap_or("")
            .to_string();
        return match parse_compound(tail.get(..tail.len().min(MAX_SELECTOR_LEN)).unwrap_or("")) {
            Some((c, _)) => Parsed::Loose(c),
            None => Parsed::Skip,
        };
    }
    let lower = sel.to_ascii_lowercase();
    if lower.contains("::")
        || [
            ":before",
            ":after",
            ":first-line",
            ":first-letter",
            ":hover",
            ":active",
            ":focus",
            ":visited",
            ":target",
            ":checked",
        ]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Parsed::Skip;
    }
    let compounds: Vec<&str> = lower
        .split([' ', '>', '+', '~', '\t', '\n'])
        .filter(|p| !p.is_empty())
        .collect();
    let Some(last) = compounds.last() else {
        return Parsed::Skip;
    };
    match parse_compound(last) {
        Some((c, exact)) if exact && compounds.len() == 1 => Parsed::Exact(c),
        Some((c, _)) => Parsed::Loose(c),
        None => Parsed::Skip,
    }
}

/// `tag.a.b#id[attr]:pseudo` → the compound and whether nothing was left out.
fn parse_compound(s: &str) -> Option<(Compound, bool)> {
    let mut c = Compound::default();
    let mut exact = true;
    let mut rest = s;
    let name_end = |r: &str| r.find(['.', '#', '[', ':']).unwrap_or(r.len());
    let end = name_end(rest);
    let tag = rest.get(..end).unwrap_or("");
    if !tag.is_empty() && tag != "*" {
        if !tag
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == ':')
        {
            return None;
        }
        c.tag = Some(tag.to_string());
    }
    rest = rest.get(end..).unwrap_or("");
    while let Some(ch) = rest.chars().next() {
        let body = rest.get(1..).unwrap_or("");
        match ch {
            '.' | '#' => {
                let e = name_end(body);
                let name = body.get(..e).unwrap_or("");
                if name.is_empty() {
                    return None;
                }
                if ch == '.' {
                    c.classes.push(name.to_string());
                } else if c.id.is_none() {
                    c.id = Some(name.to_string());
                } else {
                    exact = false;
                }
                rest = body.get(e..).unwrap_or("");
            }
            '[' => {
                exact = false;
                rest = body.find(']').and_then(|e| body.get(e + 1..)).unwrap_or("");
            }
            ':' => {
                exact = false;
                // `:not(...)` and friends: skip the argument.
                let e = body.find(['.', '#', '[', ':', '(']).unwrap_or(body.len());
                rest = body.get(e..).unwrap_or("");
                if rest.starts_with('(') {
                    rest = rest.find(')').and_then(|e| rest.get(e + 1..)).unwrap_or("");
                }
            }
            _ => return None,
        }
    }
    Some((c, exact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_in_every_notation() {
        let white = Some(WHITE);
        for s in [
            "#fff",
            "#FFFFFF",
            "#ffff",
            "#ffffffff",
            "white",
            "WHITE",
            "rgb(255,255,255)",
            "rgb(255 255 255)",
            "rgba(255, 255, 255, 1)",
            "rgb(100%,100%,100%)",
            "hsl(0, 0%, 100%)",
            "ffffff",
        ] {
            assert_eq!(parse_color(s), white, "{s}");
        }
        assert_eq!(parse_color("transparent").map(|c| c.a), Some(0));
        assert_eq!(parse_color("rgba(0,0,0,0)").map(|c| c.a), Some(0));
        assert_eq!(
            parse_color("snow"),
            Some(Rgba {
                r: 255,
                g: 250,
                b: 250,
                a: 255
            })
        );
        assert_eq!(parse_color("var(--x)"), None);
        assert_eq!(parse_color("#ggg"), None);
    }

    #[test]
    fn near_white_on_white_looks_the_same_grey_does_not() {
        let c = |s| parse_color(s).unwrap();
        assert!(same_looking(c("#fefefe"), WHITE));
        assert!(same_looking(c("snow"), WHITE));
        assert!(same_looking(c("#000"), c("#010101")));
        assert!(same_looking(c("rgba(0,0,0,0.02)"), WHITE));
        assert!(!same_looking(c("#888"), WHITE));
        assert!(!same_looking(c("#ddd"), WHITE));
        assert!(!same_looking(WHITE, c("#1155cc")));
    }

    #[test]
    fn selectors_parse_to_compounds() {
        let exact = |s: &str| match parse_selector(s) {
            Parsed::Exact(c) => Some(c),
            _ => None,
        };
        let c = exact("span.preheader").unwrap();
        assert_eq!(c.tag.as_deref(), Some("span"));
        assert_eq!(c.classes, vec!["preheader"]);
        assert!(!c.is_simple());
        assert!(exact(".x").unwrap().is_simple());
        assert_eq!(exact("#Hide").unwrap().id.as_deref(), Some("hide"));
        assert!(matches!(parse_selector("div .x"), Parsed::Loose(_)));
        assert!(matches!(parse_selector("td[class=x]"), Parsed::Loose(_)));
        assert!(matches!(parse_selector("a:hover"), Parsed::Skip));
        assert!(matches!(parse_selector("p::before"), Parsed::Skip));
    }

    #[test]
    fn media_queries_for_the_desktop_view() {
        assert!(at_rule_applies("media screen"));
        assert!(at_rule_applies("media all and (min-width: 600px)"));
        assert!(!at_rule_applies("media only screen and (max-width: 600px)"));
        assert!(!at_rule_applies("media print"));
        assert!(!at_rule_applies("media (prefers-color-scheme: dark)"));
        assert!(!at_rule_applies("font-face"));
    }
}
