//! Where a codec is inside a value, for error messages and the depth limit.
//!
//! The codecs keep one stack of levels and push/pop as they walk, rather than
//! cloning an [`AttributePath`] per element; the path is only materialised
//! when an error is built.

use super::{CodecError, MAX_DEPTH};
use crate::diag::{AttributePath, PathStep};

#[derive(Debug, Default)]
pub(crate) struct Trail {
    /// One entry per nesting level. A dynamic value's `[type, value]` wrapper
    /// is a level without a path step: it nests but names nothing.
    levels: Vec<Option<PathStep>>,
}

impl Trail {
    /// An error located at the current position.
    pub(crate) fn error(&self, message: impl Into<String>) -> CodecError {
        CodecError {
            path: AttributePath(self.levels.iter().flatten().cloned().collect()),
            message: message.into(),
        }
    }

    /// Goes one level down, optionally into a named element. On error the
    /// trail is left as it is: errors abort the whole walk.
    pub(crate) fn enter(&mut self, step: Option<PathStep>) -> Result<(), CodecError> {
        if self.levels.len() >= MAX_DEPTH {
            return Err(self.error(format!("value is nested more than {MAX_DEPTH} levels deep")));
        }
        self.levels.push(step);
        Ok(())
    }

    /// Undoes the matching [`Trail::enter`].
    pub(crate) fn leave(&mut self) {
        self.levels.pop();
    }
}
