//! What an account's logo may be once fetched: a raster image (PNG, JPEG, GIF or WebP) of at
//! most [`LOGO_MAX_BYTES`], whose bytes are what its declared content type says. SVG is
//! refused: it is a document that can carry script and links, and served from the console's
//! origin it would run there; sanitizing it is a parser we would have to get right forever.
//! Checking the bytes as well as the header means the console serves only images, whatever a
//! logo's host claims.

/// The largest logo the server fetches and keeps. A branded page loads its logo with it, and no
/// page may weigh over 100 KB with its assets: the heaviest console page is about 50 KB, so the
/// logo gets at most 32 KiB (decision 0037). It also bounds the memory every cached logo takes.
pub const LOGO_MAX_BYTES: usize = 32 * 1024;

/// The image formats a logo may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoFormat {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
    /// `image/gif`.
    Gif,
    /// `image/webp`.
    Webp,
}

impl LogoFormat {
    /// The content type the console serves it with.
    pub fn content_type(self) -> &'static str {
        match self {
            LogoFormat::Png => "image/png",
            LogoFormat::Jpeg => "image/jpeg",
            LogoFormat::Gif => "image/gif",
            LogoFormat::Webp => "image/webp",
        }
    }

    fn of_content_type(declared: &str) -> Option<Self> {
        let essence = declared.split(';').next().unwrap_or("").trim();
        [Self::Png, Self::Jpeg, Self::Gif, Self::Webp]
            .into_iter()
            .find(|f| f.content_type().eq_ignore_ascii_case(essence))
    }

    fn of_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }
}

/// A logo the console may serve from its own origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoImage {
    format: LogoFormat,
    bytes: Vec<u8>,
}

impl LogoImage {
    /// The image a logo's host answered with `declared` as its `Content-Type`, or why not.
    ///
    /// ```
    /// use tenantry_settings::LogoImage;
    /// let png = b"\x89PNG\r\n\x1a\n....".to_vec();
    /// assert!(LogoImage::parse(Some("image/png"), png.clone()).is_ok());
    /// assert!(LogoImage::parse(Some("image/svg+xml"), png).is_err());
    /// ```
    pub fn parse(declared: Option<&str>, bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() > LOGO_MAX_BYTES {
            return Err(format!("larger than {} KiB", LOGO_MAX_BYTES / 1024));
        }
        let declared = declared.ok_or("no content type")?;
        let format = LogoFormat::of_content_type(declared).ok_or_else(|| {
            format!("content type `{declared}` is not PNG, JPEG, GIF or WebP (SVG is not accepted)")
        })?;
        if LogoFormat::of_bytes(&bytes) != Some(format) {
            return Err(format!("the body is not the {declared} it claims to be"));
        }
        Ok(Self { format, bytes })
    }

    /// The image's format, which both its declared content type and its bytes agree on.
    pub fn format(&self) -> LogoFormat {
        self.format
    }

    /// The image's bytes, at most [`LOGO_MAX_BYTES`].
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn raster_images_whose_bytes_match_their_type_pass() {
        let ok = |t: &str, b: &[u8]| LogoImage::parse(Some(t), b.to_vec());
        assert_eq!(
            ok("image/png", PNG).map(|l| l.format()),
            Ok(LogoFormat::Png)
        );
        assert!(ok("IMAGE/PNG; charset=binary", PNG).is_ok());
        assert!(ok("image/jpeg", &[0xff, 0xd8, 0xff, 0xe0]).is_ok());
        assert!(ok("image/gif", b"GIF89a....").is_ok());
        assert!(ok("image/webp", b"RIFF\0\0\0\0WEBPVP8 ").is_ok());
    }

    #[test]
    fn svg_html_mismatches_and_oversize_are_refused() {
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert!(LogoImage::parse(Some("image/svg+xml"), svg.to_vec()).is_err());
        assert!(LogoImage::parse(Some("image/png"), svg.to_vec()).is_err());
        assert!(LogoImage::parse(Some("text/html"), PNG.to_vec()).is_err());
        assert!(LogoImage::parse(None, PNG.to_vec()).is_err());
        assert!(LogoImage::parse(Some("image/gif"), PNG.to_vec()).is_err());
        let mut big = PNG.to_vec();
        big.resize(LOGO_MAX_BYTES, 0);
        assert!(LogoImage::parse(Some("image/png"), big.clone()).is_ok());
        big.push(0);
        assert_eq!(
            LogoImage::parse(Some("image/png"), big),
            Err("larger than 32 KiB".to_owned())
        );
    }
}
