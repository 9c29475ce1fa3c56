//! The text colour on a brand colour: black or white, whichever contrasts more by the WCAG 2
//! formula. The better of the two is never below 4.58:1 (the worst colour is the one whose
//! luminance makes both ratios equal), so text on any primary colour passes the 4.5:1 of
//! WCAG AA; choosing by contrast rather than by a lightness threshold keeps that a law,
//! which the property test below states for every colour.

use crate::tenant::HexColor;

/// The colour text takes on a background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOn {
    /// `#000000`.
    Black,
    /// `#ffffff`.
    White,
}

impl TextOn {
    /// As CSS writes it.
    pub fn css(self) -> &'static str {
        match self {
            TextOn::Black => "#000000",
            TextOn::White => "#ffffff",
        }
    }
}

/// WCAG 2 relative luminance of an sRGB colour.
pub fn relative_luminance([r, g, b]: [u8; 3]) -> f64 {
    fn linear(channel: u8) -> f64 {
        let c = f64::from(channel) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG 2 contrast ratio of two luminances (1 to 21, order does not matter).
pub fn contrast_ratio(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    (hi + 0.05) / (lo + 0.05)
}

impl HexColor {
    /// The colour's red, green and blue channels.
    pub fn rgb(&self) -> [u8; 3] {
        // `parse` stores exactly `#` and six hex digits, so the number always parses (the
        // fallback to black is unreachable).
        let n = u32::from_str_radix(self.as_str().trim_start_matches('#'), 16).unwrap_or(0);
        let [_, r, g, b] = n.to_be_bytes();
        [r, g, b]
    }

    /// The text colour that contrasts more with this one as a background.
    ///
    /// ```
    /// use tenantry_settings::tenant::HexColor;
    /// use tenantry_settings::TextOn;
    /// assert_eq!(HexColor::parse("#1e3a8a").unwrap().text_on(), TextOn::White);
    /// // The default indigo: black reaches 4.7:1, white only 4.47:1.
    /// assert_eq!(HexColor::parse("#6366f1").unwrap().text_on(), TextOn::Black);
    /// assert_eq!(HexColor::parse("#ffcc00").unwrap().text_on(), TextOn::Black);
    /// ```
    pub fn text_on(&self) -> TextOn {
        let l = relative_luminance(self.rgb());
        // Black's luminance is 0, white's 1.
        if contrast_ratio(l, 0.0) >= contrast_ratio(l, 1.0) {
            TextOn::Black
        } else {
            TextOn::White
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ratio_of(color: &HexColor, text: TextOn) -> f64 {
        let l = relative_luminance(color.rgb());
        contrast_ratio(l, if text == TextOn::Black { 0.0 } else { 1.0 })
    }

    #[test]
    fn known_colours() {
        let c = |s| HexColor::parse(s).expect("colour");
        assert_eq!(c("#000").text_on(), TextOn::White);
        assert_eq!(c("#fff").text_on(), TextOn::Black);
        assert_eq!(c("#0b57d0").text_on(), TextOn::White);
        assert_eq!(
            c("#777777").text_on(),
            TextOn::Black,
            "white is 4.48:1 here"
        );
        assert!((contrast_ratio(0.0, 1.0) - 21.0).abs() < 1e-9);
        assert_eq!(c("#0a0B0c").rgb(), [10, 11, 12]);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 4096,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x0037),
            ..ProptestConfig::default()
        })]

        /// Text on any primary colour reaches 4.5:1, and is the better of black and white.
        #[test]
        fn text_on_any_colour_is_readable(rgb in any::<[u8; 3]>()) {
            let color = HexColor::parse(&format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]))
                .expect("six hex digits");
            let chosen = color.text_on();
            let other = if chosen == TextOn::Black { TextOn::White } else { TextOn::Black };
            prop_assert!(ratio_of(&color, chosen) >= 4.5,
                "{color}: {:.3} (seed 0x0037)", ratio_of(&color, chosen));
            prop_assert!(ratio_of(&color, chosen) >= ratio_of(&color, other),
                "{color}: not the better of the two (seed 0x0037)");
        }
    }

    /// The same law over all 16.7 million colours (cheap: the luminance of each channel value
    /// is computed once).
    #[test]
    fn every_colour_gets_readable_text() {
        let lin: Vec<f64> = (0..=255u8)
            .map(|v| relative_luminance([v, 0, 0]) / 0.2126)
            .collect();
        let mut worst = f64::MAX;
        for r in 0..256 {
            for g in 0..256 {
                for b in 0..256 {
                    let l = 0.2126 * lin[r] + 0.7152 * lin[g] + 0.0722 * lin[b];
                    let best = contrast_ratio(l, 0.0).max(contrast_ratio(l, 1.0));
                    worst = worst.min(best);
                }
            }
        }
        assert!(worst >= 4.5, "worst best contrast {worst}");
    }
}
