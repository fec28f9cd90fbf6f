//! Where an encoded user crosses into wasm: two buffers of an `Evaluator` that JavaScript writes in
//! place (`npm/wasm-input.js`), the text with `TextEncoder.encodeInto` and the tape as `f64`s, then
//! names how much of each it wrote. Passing them as arguments cost an allocation and a copy each way
//! per call, and wasm-bindgen's string copy was a fifth of an evaluation of 100 flags.
//!
//! Nothing here trusts what JavaScript wrote: lengths past the buffers, text that is not UTF-8 and a
//! tape `encoded_user` does not read all answer `None`, and the caller takes the exact path.

use evaluator::User;

use crate::encoded_user;

#[derive(Debug, Default)]
pub(crate) struct InputBuffer {
    text: Vec<u8>,
    tape: Vec<f64>,
}

impl InputBuffer {
    /// Room for at least `bytes` of text and `slots` of tape; the addresses may move.
    pub(crate) fn reserve(&mut self, bytes: usize, slots: usize) {
        if self.text.len() < bytes {
            self.text.resize(bytes, 0);
        }
        if self.tape.len() < slots {
            self.tape.resize(slots, 0.0);
        }
    }

    /// The text buffer's address in wasm memory and its length in bytes.
    pub(crate) fn text_region(&self) -> (usize, usize) {
        (self.text.as_ptr() as usize, self.text.len())
    }

    /// The tape buffer's address in wasm memory and its length in slots.
    pub(crate) fn tape_region(&self) -> (usize, usize) {
        (self.tape.as_ptr() as usize, self.tape.len())
    }

    /// The user JavaScript wrote: `bytes` of text and `slots` of tape.
    pub(crate) fn user(&self, bytes: usize, slots: usize) -> Option<User> {
        let text = core::str::from_utf8(self.text.get(..bytes)?).ok()?;
        encoded_user::user(text, self.tape.get(..slots)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_what_fits_and_is_utf8() {
        let mut buffer = InputBuffer::default();
        buffer.reserve(4, 4);
        buffer.text[..2].copy_from_slice(b"u1");
        buffer.tape.copy_from_slice(&[2.0, -1.0, -1.0, -1.0]);
        assert_eq!(buffer.user(2, 4), Some(User::new("u1")));
        assert_eq!(buffer.user(5, 4), None);
        assert_eq!(buffer.user(2, 5), None);
        buffer.text[..2].copy_from_slice(&[0xff, 0xfe]);
        assert_eq!(buffer.user(2, 4), None);
        // Growing keeps the length asked for, never shrinks.
        buffer.reserve(2, 64);
        assert_eq!((buffer.text_region().1, buffer.tape_region().1), (4, 64));
    }
}
