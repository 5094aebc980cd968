//! Calling user code: every hook runs under `catch_unwind`, so a panic becomes a value that
//! names what failed instead of killing the worker thread.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ComponentError;

/// How a user hook failed.
#[derive(Debug, Clone)]
pub(crate) enum HookFailure {
    /// The hook panicked; the message is the panic payload.
    Panic(String),
    /// The hook returned an error.
    Error(String),
    /// The hook returned an [`crate::Unrecoverable`] error: the run ends instead of the task
    /// restarting.
    Fatal(String),
}

impl HookFailure {
    pub(crate) fn describe(&self) -> String {
        match self {
            HookFailure::Panic(m) => format!("panicked: {m}"),
            HookFailure::Error(m) | HookFailure::Fatal(m) => format!("returned an error: {m}"),
        }
    }
}

/// Runs a hook, turning a panic or an error into a [`HookFailure`].
#[inline]
pub(crate) fn call<R>(f: impl FnOnce() -> Result<R, ComponentError>) -> Result<R, HookFailure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) if e.is::<crate::Unrecoverable>() => Err(HookFailure::Fatal(e.to_string())),
        Ok(Err(e)) => Err(HookFailure::Error(e.to_string())),
        Err(payload) => Err(HookFailure::Panic(panic_message(payload.as_ref()))),
    }
}

/// Runs a hook that cannot return an error (`ack`, `close`, a factory).
pub(crate) fn call_infallible<R>(f: impl FnOnce() -> R) -> Result<R, HookFailure> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| HookFailure::Panic(panic_message(p.as_ref())))
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_and_errors_become_values() {
        let p = call::<()>(|| panic!("boom {}", 7)).unwrap_err();
        assert!(matches!(p, HookFailure::Panic(ref m) if m == "boom 7"));
        let e = call::<()>(|| Err("bad input".into())).unwrap_err();
        assert!(matches!(e, HookFailure::Error(ref m) if m == "bad input"));
        assert_eq!(call(|| Ok(3)).unwrap(), 3);
    }
}
