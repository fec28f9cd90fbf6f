use alloc::string::String;
use core::fmt;

/// How many characters of a client's text an error message repeats at most.
pub const ECHO_CHARS: usize = 64;

/// A client's text as an error message repeats it (an unknown name, an environment, an operator):
/// whole up to [`ECHO_CHARS`] characters, else its first [`ECHO_CHARS`] characters and `…`, so that
/// a 1 MiB value does not come back whole in its 400. `{}` writes it as it is, `{:?}` quoted and
/// escaped as for a `str` (the `…` inside the quotes). Every message of every runtime (origin, edge
/// worker, npm package) that repeats a client's text goes through this, so they agree.
#[derive(Clone, Copy)]
pub struct Echo<'a> {
    kept: &'a str,
    cut: bool,
}

/// `text` as an error message may repeat it; see [`Echo`].
pub fn echo(text: &str) -> Echo<'_> {
    match text.char_indices().nth(ECHO_CHARS) {
        Some((end, _)) => Echo {
            kept: &text[..end],
            cut: true,
        },
        None => Echo {
            kept: text,
            cut: false,
        },
    }
}

/// A client's object key as a step of a field's path: [`echo`]ed, and written `""` when it is
/// empty, so that every error names a field (`{"": 1}` is refused as `"": unknown field`, not as
/// `: unknown field`).
pub fn echo_key(key: &str) -> Echo<'_> {
    if key.is_empty() {
        Echo {
            kept: "\"\"",
            cut: false,
        }
    } else {
        echo(key)
    }
}

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kept)?;
        if self.cut {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cut {
            let mut text = String::with_capacity(self.kept.len() + 3);
            text.push_str(self.kept);
            text.push('…');
            fmt::Debug::fmt(text.as_str(), f)
        } else {
            fmt::Debug::fmt(self.kept, f)
        }
    }
}

/// A value that breaks the flag model, with the path of the field that holds it
/// (`"rules[2].all[0].operator"`, `"user.id"`, `"rolloutPercentage"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    field: String,
    message: String,
}

impl ValidationError {
    /// An error for `field` saying `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The path of the offending field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it, without the field.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error, seen from one level up: `prefix.field` (or `prefix[3]`-style when `field` starts
    /// with `[`).
    pub(crate) fn within(mut self, prefix: &str) -> Self {
        let mut field = String::with_capacity(prefix.len() + 1 + self.field.len());
        field.push_str(prefix);
        if !self.field.is_empty() && !self.field.starts_with('[') {
            field.push('.');
        }
        field.push_str(&self.field);
        self.field = field;
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl core::error::Error for ValidationError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn short_text_is_repeated_as_it_is() {
        for text in ["", "moon", "say \"hi\"\n", &"x".repeat(ECHO_CHARS)] {
            assert_eq!(echo(text).to_string(), text);
            assert_eq!(format!("{:?}", echo(text)), format!("{text:?}"));
        }
    }

    #[test]
    fn an_empty_key_is_named_by_its_quotes() {
        assert_eq!(echo_key("").to_string(), "\"\"");
        assert_eq!(echo_key("plan").to_string(), "plan");
        let long = "k".repeat(ECHO_CHARS + 1);
        assert_eq!(echo_key(&long).to_string(), echo(&long).to_string());
    }

    #[test]
    fn long_text_is_cut_after_the_first_characters() {
        let long = "é".repeat(8 * 1024);
        let expected = format!("{}…", "é".repeat(ECHO_CHARS));
        assert_eq!(echo(&long).to_string(), expected);
        assert_eq!(format!("{:?}", echo(&long)), format!("\"{expected}\""));
        let quoted = format!("{}\"{}", "a".repeat(ECHO_CHARS - 1), "b".repeat(100));
        assert_eq!(
            format!("{:?}", echo(&quoted)),
            format!("\"{}\\\"…\"", "a".repeat(ECHO_CHARS - 1))
        );
    }
}
