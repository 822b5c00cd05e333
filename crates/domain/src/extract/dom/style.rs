//! What a start tag's attributes mean for rendering: a `hidden` attribute or a style that
//! hides the element, a bold `font-weight`.

use memchr::memmem::Finder;
use std::sync::LazyLock;

/// What a start tag's attributes mean for rendering: (hidden, bold).
#[derive(Clone, Copy, Default)]
pub(super) struct Attrs {
    pub(super) hidden: bool,
    pub(super) bold: bool,
    /// From the tag being built (not an implied element): it takes the kept attributes.
    pub(super) from_tag: bool,
    /// The tag had a `style` attribute / a `hidden` attribute.
    pub(super) has_style: bool,
    pub(super) hidden_attr: bool,
}

/// The declarations [`style_flags`] looks for, built once: a style attribute is read per
/// tag, and building a searcher cost more than the search.
static STYLE_NEEDLES: LazyLock<[Finder<'static>; 4]> = LazyLock::new(|| {
    [
        Finder::new(b"display:none"),
        Finder::new(b"visibility:hidden"),
        Finder::new(b"mso-hide:all"),
        Finder::new(b"font-weight:"),
    ]
});

/// Reads a `style` value the way the renderer needs it: lowercase, with spaces, tabs and
/// line breaks removed, then looked up for hiding and bold declarations.
pub(super) fn style_flags(style: &[u8], buf: &mut Vec<u8>) -> Attrs {
    buf.clear();
    buf.extend(
        style
            .iter()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .map(u8::to_ascii_lowercase),
    );
    let [display_none, visibility_hidden, mso_hide, font_weight] = &*STYLE_NEEDLES;
    let has = |needle: &Finder<'_>| needle.find(buf).is_some();
    let bold = font_weight.find_iter(buf).any(|i| {
        let rest = &buf[i + b"font-weight:".len()..];
        [&b"bold"[..], b"600", b"700", b"800", b"900"]
            .iter()
            .any(|w| rest.starts_with(w))
    });
    Attrs {
        has_style: true,
        hidden_attr: false,
        from_tag: false,
        hidden: has(display_none) || has(visibility_hidden) || has(mso_hide),
        bold,
    }
}
