//! Blocking on the runtime from a Ruby thread with the GVL released, so other Ruby threads
//! run meanwhile. The future runs on the tokio runtime; the Ruby thread sleeps on a condvar
//! outside the GVL; Ruby's unblock function (Thread#raise, Ctrl-C, Thread#kill) wakes it, and
//! pending interrupts are then run with the GVL held (which may raise into Ruby, after the
//! work is aborted).

use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};

use magnus::{Error as RbError, Ruby};
use tokio::task::JoinError;

use super::errors::to_ruby;
use crate::error::Error;
use crate::runtime;

struct Slot<T> {
    state: Mutex<SlotState<T>>,
    wake: Condvar,
}

struct SlotState<T> {
    value: Option<Result<T, JoinError>>,
    interrupted: bool,
}

impl<T> Slot<T> {
    fn put(&self, value: Result<T, JoinError>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.value = Some(value);
        self.wake.notify_all();
    }

    fn take(&self) -> Option<Result<T, JoinError>> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .value
            .take()
    }
}

/// Runs without the GVL: waits until the value arrives or Ruby interrupts us.
unsafe extern "C" fn wait<T>(data: *mut c_void) -> *mut c_void {
    let slot = &*(data as *const Slot<T>);
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let mut state = slot.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.value.is_none() && !state.interrupted {
            state = slot.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.interrupted = false;
    }));
    std::ptr::null_mut()
}

/// Ruby's unblock function: called from another thread to wake the waiter.
unsafe extern "C" fn unblock<T>(data: *mut c_void) {
    let slot = &*(data as *const Slot<T>);
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let mut state = slot.state.lock().unwrap_or_else(|p| p.into_inner());
        state.interrupted = true;
        slot.wake.notify_all();
    }));
}

/// Runs `future` on the runtime and returns its output; the GVL is released while waiting.
/// A panic in the future becomes a Ruby error; a Ruby interrupt aborts the future.
pub fn block_on<F>(ruby: &Ruby, future: F) -> Result<F::Output, RbError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = runtime::runtime().map_err(|e| to_ruby(ruby, e))?;
    let slot: Arc<Slot<F::Output>> = Arc::new(Slot {
        state: Mutex::new(SlotState {
            value: None,
            interrupted: false,
        }),
        wake: Condvar::new(),
    });
    let work = rt.spawn(future);
    let abort = work.abort_handle();
    let filler = slot.clone();
    rt.spawn(async move { filler.put(work.await) });

    let data = Arc::as_ptr(&slot) as *mut c_void;
    loop {
        // SAFETY: `slot` outlives the call; `wait`/`unblock` only touch it through a shared
        // reference and take no Ruby objects. The GVL is released only inside this call.
        unsafe {
            rb_sys::rb_thread_call_without_gvl2(
                Some(wait::<F::Output>),
                data,
                Some(unblock::<F::Output>),
                data,
            );
        }
        if let Some(done) = slot.take() {
            return done.map_err(|e| {
                let failed =
                    Error::Orchestrator(format!("tasker-core background work failed: {e}"));
                to_ruby(ruby, failed)
            });
        }
        // Woken without a value: an interrupt is pending (or a spurious wake-up). Let Ruby
        // run it; if it raises, stop the work and let the exception through.
        // SAFETY: we hold the GVL here; protect catches the non-local exit.
        let checked = magnus::rb_sys::protect(|| unsafe {
            rb_sys::rb_thread_check_ints();
            rb_sys::Qnil as rb_sys::VALUE
        });
        if let Err(e) = checked {
            abort.abort();
            return Err(e);
        }
    }
}
