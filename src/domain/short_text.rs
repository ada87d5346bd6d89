//! Equality of short strings without a call to `memcmp`. Keys, branches
//! and repository names are a few bytes to a few dozen, compared once or
//! twice per pipeline read: the call and its setup cost more than the
//! comparison, and were a tenth of what reading an export cost.

/// `a == b`, inlined: words of eight bytes, the last two of them
/// overlapping; four-byte words below eight bytes; bytes below four.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    match n {
        0..=3 => (0..n).all(|i| a[i] == b[i]),
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        _ => (0..n / 8).all(|i| w8(a, 8 * i) == w8(b, 8 * i)) && w8(a, n - 8) == w8(b, n - 8),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_eq(a in prop::collection::vec(0u8..4, 0..40), flip in any::<prop::sample::Index>()) {
            prop_assert_eq!(super::same(&a, &a), true);
            let mut b = a.clone();
            if !b.is_empty() {
                let i = flip.index(b.len());
                b[i] ^= 1;
                prop_assert_eq!(super::same(&a, &b), a == b);
            }
            prop_assert_eq!(super::same(&a, &a[..a.len() / 2]), a.is_empty());
        }
    }
}
