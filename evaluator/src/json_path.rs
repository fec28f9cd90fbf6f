//! Paths into a JSON document for error messages (`rules[1].all[0].value`,
//! `user.attributes.list[2].x`), built only when an error needs one.
//!
//! A streaming reader carries where it is as a chain of borrowed steps on the stack ([`Parent`]):
//! no allocation and no string work while the input is fine. Only when it finds a mistake does it
//! turn the chain into a [`JsonPath`].

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// One step down: an index of an array or a key of an object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Index(usize),
    Key(String),
}

/// A path from a root, ordered step by step: a prefix before its extensions, then by index, keys by
/// their bytes. A reader that keeps the least path of its kind names the same one whatever the order
/// of the keys in the input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct JsonPath(Vec<Step>);

impl JsonPath {
    /// The path as a field name under `root` (`"user.attributes"` gives `user.attributes.a[2].b`;
    /// `""` gives `a[2].b`, or `[0].x` for a path that starts in an array).
    pub(crate) fn field(&self, root: &str) -> String {
        let mut field = String::from(root);
        for step in &self.0 {
            // Writing to a String cannot fail.
            let _ = match step {
                Step::Index(i) => write!(field, "[{i}]"),
                // A client's key, so repeated only up to a point, and `""` when empty (see `echo_key`).
                Step::Key(key) if field.is_empty() => write!(field, "{}", crate::echo_key(key)),
                Step::Key(key) => write!(field, ".{}", crate::echo_key(key)),
            };
        }
        field
    }
}

/// Where a value being read sits: the root, or a key or an index under another place.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Parent<'p> {
    Root,
    Key(&'p str, &'p Parent<'p>),
    Index(usize, &'p Parent<'p>),
}

impl Parent<'_> {
    /// The path of `key` in the object at this place.
    #[cold]
    fn path_to(&self, key: &str) -> JsonPath {
        let mut steps = Vec::new();
        steps.push(Step::Key(key.into()));
        let mut place = self;
        loop {
            match place {
                Parent::Root => break,
                Parent::Key(key, up) => {
                    steps.push(Step::Key((*key).into()));
                    place = up;
                }
                Parent::Index(i, up) => {
                    steps.push(Step::Index(*i));
                    place = up;
                }
            }
        }
        steps.reverse();
        JsonPath(steps)
    }

    /// Notes that the object at this place holds `key` twice, keeping the least such path in `least`.
    #[cold]
    pub(crate) fn note_duplicate(&self, key: &str, least: &mut Option<JsonPath>) {
        let path = self.path_to(key);
        if least.as_ref().is_none_or(|seen| path < *seen) {
            *least = Some(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(parent: &Parent<'_>, key: &str) -> JsonPath {
        parent.path_to(key)
    }

    #[test]
    fn paths_read_like_the_evaluators_field_names() {
        let list = Parent::Key("list", &Parent::Root);
        let third = Parent::Index(2, &list);
        assert_eq!(
            path_of(&third, "x").field("user.attributes"),
            "user.attributes.list[2].x"
        );
        assert_eq!(path_of(&third, "x").field(""), "list[2].x");
        let first = Parent::Index(0, &Parent::Root);
        assert_eq!(path_of(&first, "x").field(""), "[0].x");
        assert_eq!(path_of(&Parent::Root, "key").field(""), "key");
    }

    #[test]
    fn the_least_path_is_kept() {
        let a = Parent::Key("a", &Parent::Root);
        let mut least = None;
        a.note_duplicate("y", &mut least);
        a.note_duplicate("x", &mut least);
        Parent::Root.note_duplicate("b", &mut least);
        assert_eq!(least.as_ref().map(|p| p.field("")).as_deref(), Some("a.x"));
        // A prefix comes before what lies under it.
        Parent::Root.note_duplicate("a", &mut least);
        assert_eq!(least.as_ref().map(|p| p.field("")).as_deref(), Some("a"));
        let zeroth = Parent::Index(0, &Parent::Root);
        zeroth.note_duplicate("z", &mut least);
        assert_eq!(least.map(|p| p.field("")).as_deref(), Some("[0].z"));
    }
}
