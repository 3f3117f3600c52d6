//! Full-text search in memory: an inverted index of documents with weighted fields,
//! ranked by BM25F, and the slot that holds the current index while a newer one is
//! built. It knows nothing of artworks: `artworks::search` fills it from the catalogue
//! and says when to read it again.
//!
//! A search in the database looked at every match to rank it (SQLite's `bm25`,
//! PostgreSQL's `ts_rank` over each match's vector): about a millisecond for a few hundred
//! matches. Here the same work is a few microseconds, and the database reads only the
//! page it shows (BENCHMARKS.md, "session 12").

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// BM25's saturation of a term's frequency, and how much a document's length matters.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// The longest word kept, in characters; the rest of a longer one is dropped.
const MAX_WORD: usize = 64;

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Words a search leaves out unless it has nothing else: "the harbour at dawn" finds
/// what "harbour dawn" finds.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "he", "her", "his", "in", "is", "it", "its",
    "of", "on", "or", "she", "that", "the", "their", "this", "to", "was", "were", "with",
];

/// The words of a text: its runs of letters and digits, with their diacritics (a
/// decomposed "Müller" is one word).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric() && !is_combining_mark(c))
        .filter(|word| !word.is_empty())
}

/// `word` lower-cased, without diacritics ("Café" is "cafe"), cut to [`MAX_WORD`]
/// characters, into `out`.
fn plain(word: &str, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.extend(word.chars().take(MAX_WORD).map(|c| c.to_ascii_lowercase()));
    } else {
        out.extend(
            word.nfd()
                .filter(|c| !is_combining_mark(*c))
                .flat_map(char::to_lowercase)
                .take(MAX_WORD),
        );
    }
}

/// A plain word's stem ("harbours" is "harbour").
fn stem(plain: &str) -> String {
    match STEMMER.stem(plain) {
        Cow::Borrowed(stem) => stem.to_owned(),
        Cow::Owned(stem) => stem,
    }
}

/// The terms of a text: its words, plain and stemmed.
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut scratch = String::new();
    words(text)
        .map(move |word| {
            plain(word, &mut scratch);
            stem(&scratch)
        })
        .filter(|term| !term.is_empty())
}

/// The terms a search asks for, each once, without the stopwords (unless they are all
/// it has).
fn query_terms(words: &[String]) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for word in words {
        for term in terms(word) {
            if !all.contains(&term) {
                all.push(term);
            }
        }
    }
    let kept: Vec<String> = all
        .iter()
        .filter(|term| !STOPWORDS.contains(&term.as_str()))
        .cloned()
        .collect();
    if kept.is_empty() {
        all
    } else {
        kept
    }
}

/// A document's share of one term: the term's frequency in each field, times the
/// field's weight, summed.
#[derive(Debug, Clone, Copy)]
struct Posting {
    document: u32,
    frequency: f32,
}

#[derive(Debug, Clone)]
struct Document {
    id: i64,
    /// Orders equal scores, newest first (then the highest id).
    created: i64,
    /// The weighted count of its terms.
    length: f32,
    /// Its terms' numbers, each once: where its postings are when it is taken out.
    terms: Box<[u32]>,
}

/// Documents by term, each term's postings in document order. Documents are put in and
/// taken out one at a time: an index follows a catalogue's changes without reading it
/// all again. A document's number is never used again once it is taken out, so every
/// term's postings stay in order by appending.
#[derive(Debug, Clone)]
pub struct Index {
    generation: i64,
    weights: &'static [f32],
    /// Each plain word met, and its term's number: a word is stemmed once, however often
    /// the catalogue uses it.
    words: HashMap<Box<str>, u32>,
    /// Each term's number.
    numbers: HashMap<Box<str>, u32>,
    /// Each term's postings, by number.
    postings: Vec<Vec<Posting>>,
    /// By number; `None` once taken out.
    documents: Vec<Option<Document>>,
    /// Each id's document number.
    numbered: HashMap<i64, u32>,
    /// The weighted count of every document's terms (`f64`: it is added to and taken
    /// from as documents change, and must not drift).
    total_length: f64,
    /// The document being put in: its terms' numbers and weights, one for each word.
    frequencies: Vec<(u32, f32)>,
    scratch: String,
}

impl Index {
    /// An empty index of documents with one field for each weight, in the same order,
    /// labelled with the `generation` of the text it holds.
    pub fn new(weights: &'static [f32], generation: i64) -> Self {
        Self {
            generation,
            weights,
            words: HashMap::new(),
            numbers: HashMap::new(),
            postings: Vec::new(),
            documents: Vec::new(),
            numbered: HashMap::new(),
            total_length: 0.0,
            frequencies: Vec::new(),
            scratch: String::new(),
        }
    }

    pub fn generation(&self) -> i64 {
        self.generation
    }

    /// Labels the index with the generation of the text it now holds.
    pub fn set_generation(&mut self, generation: i64) {
        self.generation = generation;
    }

    /// How many documents it holds.
    pub fn len(&self) -> usize {
        self.numbered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbered.is_empty()
    }

    /// How many documents were taken out (or put in again) since it was built: their
    /// numbers are not used again.
    pub fn retired(&self) -> usize {
        self.documents.len() - self.numbered.len()
    }

    /// Puts in document `id`, in place of what it held before; `fields` are in the order
    /// of the weights (missing ones are empty, extra ones ignored).
    pub fn put(&mut self, id: i64, created: i64, fields: &[&str]) {
        self.remove(id);
        let Ok(document) = u32::try_from(self.documents.len()) else {
            return;
        };
        let mut length = 0.0;
        let weights = self.weights;
        for (field, weight) in fields.iter().zip(weights) {
            for word in words(field) {
                if let Some(number) = self.number(word) {
                    length += weight;
                    self.frequencies.push((number, *weight));
                }
            }
        }
        self.frequencies.sort_unstable_by_key(|(number, _)| *number);
        let mut terms = Vec::new();
        let mut frequencies = self.frequencies.drain(..).peekable();
        while let Some((number, mut frequency)) = frequencies.next() {
            while let Some((_, more)) = frequencies.next_if(|(next, _)| *next == number) {
                frequency += more;
            }
            if let Some(postings) = self.postings.get_mut(number as usize) {
                postings.push(Posting { document, frequency });
                terms.push(number);
            }
        }
        self.documents.push(Some(Document {
            id,
            created,
            length,
            terms: terms.into_boxed_slice(),
        }));
        self.numbered.insert(id, document);
        self.total_length += f64::from(length);
    }

    /// Takes out document `id`, if it holds it.
    pub fn remove(&mut self, id: i64) {
        let Some(document) = self.numbered.remove(&id) else {
            return;
        };
        let Some(taken) = self.documents.get_mut(document as usize).and_then(Option::take) else {
            return;
        };
        for number in taken.terms.iter() {
            if let Some(postings) = self.postings.get_mut(*number as usize) {
                if let Ok(at) = postings.binary_search_by_key(&document, |p| p.document) {
                    postings.remove(at);
                }
            }
        }
        self.total_length = (self.total_length - f64::from(taken.length)).max(0.0);
    }

    /// The number of a word's term, found or given; none for a word without one.
    fn number(&mut self, word: &str) -> Option<u32> {
        plain(word, &mut self.scratch);
        if let Some(number) = self.words.get(self.scratch.as_str()) {
            return Some(*number);
        }
        let term = stem(&self.scratch);
        if term.is_empty() {
            return None;
        }
        let number = match self.numbers.get(term.as_str()) {
            Some(number) => *number,
            None => {
                let number = u32::try_from(self.postings.len()).ok()?;
                self.numbers.insert(term.into_boxed_str(), number);
                self.postings.push(Vec::new());
                number
            }
        };
        self.words.insert(self.scratch.as_str().into(), number);
        Some(number)
    }

    /// The postings of a term, if any document holds it.
    fn postings_of(&self, term: &str) -> Option<&[Posting]> {
        let number = self.numbers.get(term)?;
        self.postings
            .get(*number as usize)
            .map(Vec::as_slice)
            .filter(|p| !p.is_empty())
    }

    /// The ids of the documents holding every term of `words`, best first (BM25F; equal
    /// scores newest first, then by id, highest first).
    pub fn find(&self, words: &[String]) -> Vec<i64> {
        let terms = query_terms(words);
        let mut lists = Vec::with_capacity(terms.len());
        for term in &terms {
            match self.postings_of(term) {
                Some(postings) => lists.push(postings),
                None => return Vec::new(),
            }
        }
        if lists.is_empty() {
            return Vec::new();
        }
        lists.sort_by_key(|postings| postings.len());
        let count = self.len() as f32;
        let average = match self.len() {
            0 => 1.0,
            n => ((self.total_length / n as f64) as f32).max(f32::MIN_POSITIVE),
        };
        let idf: Vec<f32> = lists
            .iter()
            .map(|postings| {
                let n = postings.len() as f32;
                (1.0 + (count - n + 0.5) / (n + 0.5)).ln()
            })
            .collect();
        // The shortest list leads; each other list is searched from where it last stopped.
        let mut cursors = vec![0usize; lists.len()];
        let mut found: Vec<(f32, &Document)> = Vec::new();
        'documents: for lead in lists[0] {
            let Some(Some(document)) = self.documents.get(lead.document as usize) else {
                continue;
            };
            let norm = K1 * (1.0 - B + B * document.length / average);
            let mut score = idf[0] * bm25(lead.frequency, norm);
            for (i, postings) in lists.iter().enumerate().skip(1) {
                let rest = &postings[cursors[i]..];
                let at = rest.partition_point(|p| p.document < lead.document);
                cursors[i] += at;
                match rest.get(at) {
                    Some(p) if p.document == lead.document => score += idf[i] * bm25(p.frequency, norm),
                    Some(_) => continue 'documents,
                    None => break 'documents,
                }
            }
            found.push((score, document));
        }
        found.sort_unstable_by(|(a, x), (b, y)| b.total_cmp(a).then(y.created.cmp(&x.created)).then(y.id.cmp(&x.id)));
        found.into_iter().map(|(_, document)| document.id).collect()
    }
}

/// One term's share of a document's score: its weighted frequency, saturated.
fn bm25(frequency: f32, norm: f32) -> f32 {
    frequency * (K1 + 1.0) / (frequency + norm)
}

/// The current index, when it was last known to be current, and a lock that lets one
/// caller at a time build the next.
#[derive(Debug, Default)]
pub struct Slot {
    current: RwLock<Option<Current>>,
    refreshing: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone)]
struct Current {
    index: Arc<Index>,
    /// When the database last said the index was current.
    checked: Instant,
    /// The caller's mark of its own changes at that time (the page cache's generation).
    mark: u64,
}

impl Slot {
    /// The index, if it was checked within `within` and nothing has changed `mark` since.
    pub fn fresh(&self, mark: u64, within: Duration) -> Option<Arc<Index>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|c| c.mark == mark && c.checked.elapsed() < within)
            .map(|c| c.index.clone())
    }

    /// The index, however old.
    pub fn latest(&self) -> Option<Arc<Index>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().map(|c| c.index.clone())
    }

    /// Takes the index out: searches find none until the next is stored. For the holder
    /// of the right to refresh, which changes it in place when no search holds it.
    pub fn take(&self) -> Option<Arc<Index>> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        current.take().map(|c| c.index)
    }

    /// Puts back an index taken out ([`Self::take`]) and changed, unless another was
    /// stored meanwhile: a refresh whose caller gave up still finishes its work, and must
    /// not put an older index over the newer one of the caller that went on.
    pub fn put_back(&self, index: Arc<Index>, mark: u64, checked: Instant) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.is_none() {
            *current = Some(Current { index, checked, mark });
        }
    }

    /// Holds the right to refresh the index until dropped.
    pub async fn refreshing(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.refreshing.lock().await
    }

    /// Makes `index` current, as the database said it was at `checked`, when the caller's
    /// mark was `mark`.
    pub fn store(&self, index: Arc<Index>, mark: u64, checked: Instant) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        *current = Some(Current { index, checked, mark });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEIGHTS: &[f32] = &[10.0, 1.0];

    fn words(q: &str) -> Vec<String> {
        q.split(' ').map(str::to_owned).collect()
    }

    fn index(documents: &[(i64, i64, &str, &str)]) -> Index {
        let mut index = Index::new(WEIGHTS, 7);
        for (id, created, title, description) in documents {
            index.put(*id, *created, &[title, description]);
        }
        index
    }

    #[test]
    fn terms_are_plain_lower_case_stems() {
        let found: Vec<String> = terms("Harbours, CAFÉ's  paintings—Müller 1920 Mu\u{308}ller").collect();
        assert_eq!(found, ["harbour", "cafe", "s", "paint", "muller", "1920", "muller"]);
        assert_eq!(terms(&"x".repeat(100)).next().map(|t| t.len()), Some(MAX_WORD));
        assert_eq!(terms(" -- ").count(), 0);
    }

    #[test]
    fn every_term_must_match() {
        let index = index(&[
            (1, 1, "Harbour at dawn", "Boats"),
            (2, 2, "Harbour", "Gulls at noon"),
            (3, 3, "Forest", "Pines at dawn"),
        ]);
        assert_eq!(index.find(&words("dawn harbour")), [1]);
        // The shorter document first: its title is more of it.
        assert_eq!(index.find(&words("HARBOURS")), [2, 1]);
        assert!(index.find(&words("harbour forest")).is_empty());
        assert!(index.find(&words("nowhere")).is_empty());
        assert!(index.find(&[]).is_empty());
        assert_eq!(index.generation(), 7);
    }

    #[test]
    fn the_forms_of_a_word_are_one_term_counted_together() {
        let index = index(&[(1, 1, "Paintings", "painting, painted"), (2, 2, "Painting", "Dusk")]);
        assert_eq!(index.find(&words("painted")), [1, 2], "more of it counts for more");
        let postings = index.postings_of("paint").unwrap_or_default();
        assert_eq!(postings.len(), 2, "one posting a document");
        assert_eq!(
            postings[0].frequency, 12.0,
            "the title's 10 and the description's 1 twice"
        );
    }

    #[test]
    fn stopwords_are_left_out_unless_they_are_all() {
        let index = index(&[(1, 1, "The harbour", ""), (2, 2, "Harbour", ""), (3, 3, "The end", "")]);
        let mut found = index.find(&words("the harbour"));
        found.sort();
        assert_eq!(found, [1, 2], "'the' is left out");
        assert_eq!(index.find(&words("the")), [3, 1], "unless it is all there is");
    }

    #[test]
    fn weighted_fields_rank_and_ties_go_to_the_newest() {
        let index = index(&[
            (1, 10, "Morning", "A quiet harbour"),
            (2, 5, "Harbour", "Boats"),
            (3, 20, "Hill", "A harbour view"),
            (4, 20, "Moor", "A harbour view"),
        ]);
        // The title outweighs the description; equal scores go newest first, then by id.
        assert_eq!(index.find(&words("harbour")), [2, 4, 3, 1]);
    }

    #[test]
    fn rarer_terms_count_for_more() {
        let index = index(&[
            (1, 1, "Blue", "harbour"),
            (2, 2, "Harbour", "blue"),
            (3, 3, "Blue", "sky"),
            (4, 4, "Blue", "sea"),
        ]);
        // "harbour" is rarer than "blue": having it in the title counts for more.
        assert_eq!(index.find(&words("blue harbour")), [2, 1]);
    }

    #[test]
    fn changes_put_in_and_taken_out_rank_as_a_fresh_index_does() {
        let mut changed = index(&[
            (1, 1, "Harbour at dawn", "Boats"),
            (2, 2, "Harbour", "Gulls at noon"),
            (3, 3, "Forest", "Pines at dawn"),
            (4, 4, "Harbour lights", "Night boats"),
        ]);
        changed.put(2, 2, &["Forest harbour", "Gulls at noon"]);
        changed.remove(3);
        changed.remove(99);
        changed.put(5, 5, &["Dawn", "Harbour boats"]);
        let fresh = index(&[
            (1, 1, "Harbour at dawn", "Boats"),
            (2, 2, "Forest harbour", "Gulls at noon"),
            (4, 4, "Harbour lights", "Night boats"),
            (5, 5, "Dawn", "Harbour boats"),
        ]);
        for q in ["harbour", "dawn", "forest", "boats harbour", "night", "gulls", "the"] {
            assert_eq!(changed.find(&words(q)), fresh.find(&words(q)), "{q}");
        }
        assert!(changed.find(&words("pines")).is_empty(), "taken out");
        assert_eq!(changed.find(&words("forest")), [2], "put in again with its new text");
        assert_eq!((changed.len(), changed.retired()), (4, 2));
        assert_eq!((fresh.len(), fresh.retired()), (4, 0));
        changed.remove(1);
        changed.remove(2);
        changed.remove(4);
        changed.remove(5);
        assert!(changed.is_empty());
        assert!(changed.find(&words("harbour")).is_empty());
    }

    #[test]
    fn an_index_put_back_never_replaces_a_newer_one() {
        let slot = Slot::default();
        let now = Instant::now();
        slot.store(Arc::new(Index::new(WEIGHTS, 1)), 0, now);
        let taken = slot.take().map(|index| index.generation());
        assert_eq!(taken, Some(1));
        assert!(slot.latest().is_none(), "taken out");
        slot.put_back(Arc::new(Index::new(WEIGHTS, 2)), 0, now);
        assert_eq!(slot.latest().map(|index| index.generation()), Some(2), "put back");
        slot.store(Arc::new(Index::new(WEIGHTS, 4)), 0, now);
        slot.put_back(Arc::new(Index::new(WEIGHTS, 3)), 0, now);
        assert_eq!(
            slot.latest().map(|index| index.generation()),
            Some(4),
            "the newer one kept"
        );
    }
}
