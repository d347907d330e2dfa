//! Hashing for the scans' sets and maps of words and runs of words: millions of short keys
//! per paper, so the hash must be cheap, and the same on every machine and run (a run's hash
//! is compared across papers). Not keyed: the input is the papers being checked, not
//! someone else's traffic, so flooding is no concern.
//!
//! Where only a hash is kept (the published runs an honest copy may hold, the cross-paper
//! index), two different runs sharing a hash is as unlikely as for any 64-bit hash of good
//! quality; wherever a hash picks out a candidate to report, the words are compared too.

use std::hash::{BuildHasherDefault, Hasher};

/// Multipliers from the folded-multiply hashes (foldhash, wyhash): odd, with well-spread bits.
const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344;
const K2: u64 = 0xa409_3822_299f_31d0;

/// The high and low halves of the full product, folded together: every input bit reaches
/// every output bit.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// A streaming hasher: each write is folded in eight bytes at a time.
#[derive(Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl Default for WordHasher {
    fn default() -> Self {
        WordHasher(K0)
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            h = folded_multiply(h ^ u64::from_le_bytes(word), K1);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps `ab` and `ab\0` apart.
            h = folded_multiply(h ^ u64::from_le_bytes(word), K2 ^ rest.len() as u64);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, byte: u8) {
        self.0 = folded_multiply(self.0 ^ u64::from(byte), K2);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = folded_multiply(self.0 ^ value, K1);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        folded_multiply(self.0, K0)
    }
}

/// For `HashMap`/`HashSet` keyed by words, runs or their hashes.
pub(crate) type BuildWordHasher = BuildHasherDefault<WordHasher>;
pub(crate) type WordMap<K, V> = std::collections::HashMap<K, V, BuildWordHasher>;
pub(crate) type WordSet<K> = std::collections::HashSet<K, BuildWordHasher>;

/// A set of words that may answer "certainly not here" in a few instructions: one bit per
/// word, picked by its length and three of its bytes. Most words a scan reads are not
/// withheld, and this spares them a hash-table lookup; a set bit still needs one.
pub(crate) struct WordFilter {
    bits: Box<[u64]>,
}

impl Default for WordFilter {
    fn default() -> Self {
        WordFilter {
            bits: vec![0; WordFilter::BITS / 64].into_boxed_slice(),
        }
    }
}

impl WordFilter {
    const BITS: usize = 1 << 16;

    fn bit(word: &str) -> usize {
        let b = word.as_bytes();
        let n = b.len();
        let Some(&last) = b.last() else {
            return 0;
        };
        let key = u32::from(b[0]) | u32::from(b[n / 2]) << 8 | u32::from(last) << 16;
        let mixed = (key ^ (n as u32) << 24).wrapping_mul(0x9e37_79b9);
        (mixed >> 16) as usize
    }

    pub(crate) fn insert(&mut self, word: &str) {
        let bit = WordFilter::bit(word);
        self.bits[bit / 64] |= 1 << (bit % 64);
    }

    /// False only if `word` was never inserted.
    pub(crate) fn may_contain(&self, word: &str) -> bool {
        let bit = WordFilter::bit(word);
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// A set of 64-bit hashes that may answer "certainly not here" from a bit table of 2 MB,
/// which stays in cache where a large set would not. The hashes are well mixed, so their top
/// bits pick the bit.
pub(crate) struct HashFilter {
    bits: Box<[u64]>,
}

impl HashFilter {
    const BITS_LOG2: u32 = 24;

    pub(crate) fn new(hashes: impl Iterator<Item = u64>) -> Self {
        let mut filter = HashFilter {
            bits: vec![0; (1 << HashFilter::BITS_LOG2) / 64].into_boxed_slice(),
        };
        for h in hashes {
            let bit = HashFilter::bit(h);
            filter.bits[bit / 64] |= 1 << (bit % 64);
        }
        filter
    }

    fn bit(hash: u64) -> usize {
        (hash >> (64 - HashFilter::BITS_LOG2)) as usize
    }

    /// False only if `hash` was not among those the filter was made from.
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        let bit = HashFilter::bit(hash);
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// The base of [`run_hashes`]' polynomial: odd, so multiplying by it loses no bit.
const BASE: u64 = 0x9e37_79b9_7f4a_7c15;

/// The hash of one word: what [`run_hashes`] combines.
fn word_hash(word: &str) -> u64 {
    let bytes = word.as_bytes();
    if bytes.len() <= 8 {
        // Most words are their own 64-bit value (no word holds a NUL, so the padding keeps
        // `ab` and `ab\0` apart where it matters): one fold mixes it, where the streaming
        // hasher takes two and a loop.
        let mut value = [0u8; 8];
        value[..bytes.len()].copy_from_slice(bytes);
        return folded_multiply(u64::from_le_bytes(value) ^ K0, BASE);
    }
    let mut h = WordHasher::default();
    h.write(bytes);
    h.finish()
}

/// The hash of each run of `n` consecutive words of `words` (`n` at least 1), in order, as
/// one audience's copies hold it: for the scans across papers, which compare such hashes
/// only with each other, never with [`run_hash`].
///
/// Each run's hash is a polynomial in [`BASE`] of its words' hashes (modulo 2^64), so the
/// next run's follows from the last by taking its first word out and the next word in: two
/// multiplications a run, and each word hashed once, where hashing each run's text reads
/// every word `n` times. Two different runs differ in at least one word; as the base is odd
/// the difference of their polynomials is zero only if that of well-mixed 64-bit word hashes
/// cancels, as unlikely as a collision of one 64-bit hash, and the final fold spreads every
/// bit of the sum (and of the audience) into every bit of the hash.
pub(crate) fn run_hashes<'w>(
    audience: &str,
    words: impl IntoIterator<Item = &'w str>,
    n: usize,
) -> Vec<u64> {
    assert!(n > 0, "a run has at least one word");
    let hashes: Vec<u64> = words.into_iter().map(word_hash).collect();
    let runs = (hashes.len() + 1).saturating_sub(n);
    if runs == 0 {
        return Vec::new();
    }
    let seed = word_hash(audience);
    let finish = |sum: u64| folded_multiply(sum ^ seed, K0);
    // BASE^(n - 1): the weight of a run's first word.
    let first = (1..n).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let mut sum = hashes[..n]
        .iter()
        .fold(0u64, |sum, &h| sum.wrapping_mul(BASE).wrapping_add(h));
    let mut out = Vec::with_capacity(runs);
    out.push(finish(sum));
    for (&out_word, &in_word) in hashes.iter().zip(&hashes[n..]) {
        sum = sum
            .wrapping_sub(out_word.wrapping_mul(first))
            .wrapping_mul(BASE)
            .wrapping_add(in_word);
        out.push(finish(sum));
    }
    out
}

/// The hash of a run of words as one audience's copies hold it (`""`: any audience).
pub(crate) fn run_hash(audience: &str, run: &str) -> u64 {
    let mut h = WordHasher::default();
    h.write(audience.as_bytes());
    h.write_u8(0xff);
    h.write(run.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_has_no_false_negative() {
        let mut filter = WordFilter::default();
        let words: Vec<String> = (0..5000).map(|i| format!("w{i}x")).collect();
        for w in &words {
            filter.insert(w);
        }
        assert!(words.iter().all(|w| filter.may_contain(w)));
        let empty = WordFilter::default();
        assert!(!empty.may_contain("kestrel"));
        let mut one = WordFilter::default();
        one.insert("kestrel");
        assert!(one.may_contain("kestrel"));
        assert!(
            !["falcon", "kestrels", "k", "estrel"]
                .iter()
                .any(|w| one.may_contain(w))
        );
    }

    #[test]
    fn hash_filter_has_no_false_negative() {
        let hashes: Vec<u64> = (0..10_000u64)
            .map(|i| run_hash("public", &i.to_string()))
            .collect();
        let filter = HashFilter::new(hashes.iter().copied());
        assert!(hashes.iter().all(|&h| filter.may_contain(h)));
        let others = (10_000..20_000u64).map(|i| run_hash("public", &i.to_string()));
        let passed = others.filter(|&h| filter.may_contain(h)).count();
        // 10,000 bits of 16,777,216 set: about 6 of 10,000 others pass.
        assert!(passed < 50, "{passed} of 10,000 passed");
    }

    /// [`run_hashes`] as the plain sum of each run's words, without rolling.
    fn run_hashes_plain(audience: &str, words: &[&str], n: usize) -> Vec<u64> {
        let seed = word_hash(audience);
        words
            .windows(n)
            .map(|run| {
                let sum = run.iter().fold(0u64, |sum, w| {
                    sum.wrapping_mul(BASE).wrapping_add(word_hash(w))
                });
                folded_multiply(sum ^ seed, K0)
            })
            .collect()
    }

    proptest::proptest! {
        /// The rolling hashes are each run's own, and equal exactly where the runs are
        /// (words from a small vocabulary, so many runs repeat), within and across
        /// sequences and audiences.
        #[test]
        fn rolling_run_hashes_are_each_runs_own(
            a in proptest::collection::vec(0usize..6, 0..60),
            b in proptest::collection::vec(0usize..6, 0..60),
            n in 1usize..7,
        ) {
            const VOCAB: [&str; 6] = ["a", "kestrel", "ab", "b", "kestrels1", "0123456789abcdef"];
            let a: Vec<&str> = a.iter().map(|&i| VOCAB[i]).collect();
            let b: Vec<&str> = b.iter().map(|&i| VOCAB[i]).collect();
            let ha = run_hashes("public", a.iter().copied(), n);
            let hb = run_hashes("public", b.iter().copied(), n);
            let hc = run_hashes("council", b.iter().copied(), n);
            proptest::prop_assert_eq!(&ha, &run_hashes_plain("public", &a, n));
            proptest::prop_assert_eq!(ha.len(), (a.len() + 1).saturating_sub(n));
            for (i, x) in a.windows(n).enumerate() {
                for (j, y) in b.windows(n).enumerate() {
                    proptest::prop_assert_eq!(x == y, ha[i] == hb[j]);
                    proptest::prop_assert_ne!(ha[i], hc[j]);
                }
            }
        }
    }

    #[test]
    fn rolling_run_hashes_keep_words_apart() {
        let h = |words: &[&str]| run_hashes("public", words.iter().copied(), words.len())[0];
        assert_ne!(h(&["ab", "c"]), h(&["a", "bc"]));
        assert_ne!(h(&["a", "b"]), h(&["b", "a"]));
        assert_ne!(h(&["a", "a", "b"]), h(&["a", "b", "b"]));
        assert!(run_hashes("public", ["a"], 2).is_empty());
        // Words of every length up to and past the eight bytes hashed as one value.
        let words: Vec<String> = (0..20_000)
            .flat_map(|i| [format!("{i}"), format!("w{i:07}"), format!("kestrel{i}")])
            .collect();
        let hashes: std::collections::HashSet<u64> = words.iter().map(|w| word_hash(w)).collect();
        assert_eq!(hashes.len(), words.len());
    }

    #[test]
    fn runs_hash_apart_and_alike() {
        assert_eq!(run_hash("public", "a b c"), run_hash("public", "a b c"));
        assert_ne!(run_hash("public", "a b c"), run_hash("public", "a b d"));
        assert_ne!(run_hash("public", "a b c"), run_hash("council", "a b c"));
        assert_ne!(run_hash("", "ab"), run_hash("", "ab\0"));
        assert_ne!(run_hash("ab", "c"), run_hash("a", "bc"));
    }
}
