//! A panic while answering one request answers that request 500
//! `internal_error` and leaves the process serving the next: the Lambda
//! functions are built with `panic = "unwind"` for this, so an unexpected
//! panic costs one request, not the instance and every request queued on it.
//!
//! The panic is logged once, by the 500's own error line, which says where
//! it happened; the message is kept only when it is a literal (a formatted
//! one may hold request data).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Once;
use std::task::Poll;

use crate::http::{error_response, Response};

thread_local! {
    /// How many guarded handlers this thread is polling right now.
    static GUARDED: Cell<u32> = const { Cell::new(0) };
    /// Where the last panic inside one of them happened.
    static PANICKED_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The answer of a request whose handler panicked.
#[derive(Debug, thiserror::Error)]
#[error("the handler panicked at {location}")]
pub struct HandlerPanicked {
    pub location: String,
}

/// Runs one request's handler; a panic inside it becomes a 500 for this request only.
pub async fn guard(handler: impl Future<Output = Response>) -> Response {
    install_hook();
    let mut handler = std::pin::pin!(handler);
    let outcome = std::future::poll_fn(|cx| {
        GUARDED.with(|g| g.set(g.get() + 1));
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx)));
        GUARDED.with(|g| g.set(g.get() - 1));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(response)) => Poll::Ready(Some(response)),
            Err(_) => Poll::Ready(None),
        }
    })
    .await;
    outcome.unwrap_or_else(|| {
        let location = PANICKED_AT.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "an unknown place".into());
        error_response(&HandlerPanicked { location })
    })
}

/// Inside a guarded handler the panic is only noted for its 500; anywhere
/// else the previous hook (the default: print to stderr) still reports it.
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) == 0 {
                return previous(info);
            }
            let mut location =
                info.location().map_or_else(|| "an unknown place".to_owned(), |l| format!("{}:{}", l.file(), l.line()));
            if let Some(literal) = info.payload().downcast_ref::<&'static str>() {
                location.push_str(&format!(" ({literal})"));
            }
            PANICKED_AT.with(|p| *p.borrow_mut() = Some(location));
        }));
    });
}
