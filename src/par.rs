//! A small scoped-thread `map` for the embarrassingly parallel steps (parsing files, matching
//! patterns, writing objects). Results keep the input order, so output stays deterministic.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;

/// Maps `f` over `items` on all available cores, preserving order. Small inputs (fewer than 64
/// items) run inline: use [`par_map_pieces`] for a few large pieces of work.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_split(items, 64, f)
}

/// [`par_map`] for items that are each a large piece of work: parallel from two items on.
pub fn par_map_pieces<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_split(items, 2, f)
}

/// Maps in parallel when there are at least `min_items` items and two cores.
///
/// Items are handed out in small blocks to whichever thread is free (the calling thread is one
/// of them), so cheap and costly items may be mixed in any order: a static split would leave
/// one core idle while the other works through the costly half.
fn map_split<T: Sync, R: Send>(
    items: &[T],
    min_items: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if threads < 2 || items.len() < min_items {
        return items.iter().map(f).collect();
    }
    let block = (items.len() / (threads * 16)).max(1);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let start = next.fetch_add(block, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + block).min(items.len());
            done.push((start, items[start..end].iter().map(&f).collect()));
        }
    };
    let mut blocks = thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.min(items.len()))
            .map(|_| scope.spawn(work))
            .collect();
        let mut blocks = work();
        for h in helpers {
            blocks.extend(h.join().expect("a worker thread panicked"));
        }
        blocks
    });
    blocks.sort_unstable_by_key(|(start, _)| *start);
    let mut out = Vec::with_capacity(items.len());
    for (_, results) in blocks {
        out.extend(results);
    }
    out
}

/// Splits `0..len` into up to `pieces` consecutive ranges of nearly equal length (for
/// [`par_map`] over ranges).
pub fn chunks(len: usize, pieces: usize) -> Vec<std::ops::Range<usize>> {
    let size = len.div_ceil(pieces.max(1)).max(1);
    (0..len)
        .step_by(size)
        .map(|start| start..(start + size).min(len))
        .collect()
}

/// Builds `count` pieces of output with `build(piece, buffer)` on all cores and hands each to
/// `sink` in order as soon as its turn comes. Workers take the next piece as they finish one, at
/// most `2 × cores` pieces ahead of the sink: memory holds those few pieces, never the whole
/// output, and no core waits for the slowest piece of a batch (a Role piece can be six times a
/// Secret piece). Stops at the first error of `sink`.
pub fn par_stream<E>(
    count: usize,
    build: impl Fn(usize, &mut String) + Sync,
    mut sink: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if threads < 2 || count < 2 {
        let mut text = String::new();
        for piece in 0..count {
            text.clear();
            build(piece, &mut text);
            sink(&text)?;
        }
        return Ok(());
    }
    let window = 2 * threads;
    /// Built pieces not yet sunk, and how many were sunk (or `usize::MAX` once the sink stops).
    struct Shared {
        /// `None` for a piece whose `build` panicked.
        built: std::collections::BTreeMap<usize, Option<String>>,
        sunk: usize,
    }
    let shared = Mutex::new(Shared {
        built: std::collections::BTreeMap::new(),
        sunk: 0,
    });
    let (ready, room) = (Condvar::new(), Condvar::new());
    let next = AtomicUsize::new(0);
    let lock = || shared.lock().unwrap_or_else(PoisonError::into_inner);
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let piece = next.fetch_add(1, Ordering::Relaxed);
                    if piece >= count {
                        return;
                    }
                    // Wait for room: at most `window` pieces ahead of the sink.
                    let mut state = lock();
                    while state.sunk != usize::MAX && piece >= state.sunk + window {
                        state = room.wait(state).unwrap_or_else(PoisonError::into_inner);
                    }
                    if state.sunk == usize::MAX {
                        return;
                    }
                    drop(state);
                    // A panic is handed to the sink's thread, which would otherwise wait for
                    // this piece forever.
                    let text = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let mut text = String::new();
                        build(piece, &mut text);
                        text
                    }));
                    let failed = text.is_err();
                    lock().built.insert(piece, text.ok());
                    ready.notify_one();
                    if failed {
                        return;
                    }
                }
            });
        }
        let mut result = Ok(());
        for piece in 0..count {
            let mut state = lock();
            let text = loop {
                match state.built.remove(&piece) {
                    Some(Some(text)) => break text,
                    Some(None) => {
                        // Release the waiting workers so that the scope can end, then fail.
                        state.sunk = usize::MAX;
                        drop(state);
                        room.notify_all();
                        panic!("a worker thread panicked");
                    }
                    None => {}
                }
                state = ready.wait(state).unwrap_or_else(PoisonError::into_inner);
            };
            drop(state);
            result = sink(&text);
            let mut state = lock();
            state.sunk = if result.is_ok() {
                piece + 1
            } else {
                usize::MAX
            };
            drop(state);
            room.notify_all();
            if result.is_err() {
                break;
            }
        }
        result
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn stream_keeps_order() {
        let mut out = String::new();
        super::par_stream(
            100,
            |i, buf| buf.push_str(&format!("{i},")),
            |text| {
                out.push_str(text);
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        let expected: String = (0..100).map(|i| format!("{i},")).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn stream_stops_at_the_sinks_first_error() {
        let mut seen = Vec::new();
        let got = super::par_stream(
            1000,
            |i, buf| buf.push_str(&i.to_string()),
            |text| {
                seen.push(text.to_string());
                if seen.len() == 10 {
                    Err("full")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(got, Err("full"));
        let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    #[should_panic(expected = "a worker thread panicked")]
    fn a_panicking_piece_fails_the_stream_without_hanging() {
        let _ = super::par_stream(
            100,
            |i, buf| {
                assert!(i != 50, "piece 50");
                buf.push('x');
            },
            |_| Ok::<(), ()>(()),
        );
    }

    #[test]
    fn chunks_cover_everything() {
        assert_eq!(super::chunks(10, 3), [0..4, 4..8, 8..10]);
        assert!(super::chunks(0, 3).is_empty());
    }

    #[test]
    fn keeps_order() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            super::par_map(&items, |x| x * 2),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn pieces_run_at_the_same_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::{Duration, Instant};
        if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
            return;
        }
        // Each piece waits (up to 10 s) for the other to start: only parallel pieces both see it.
        let started = AtomicUsize::new(0);
        let both = super::par_map_pieces(&[0, 1], |_| {
            started.fetch_add(1, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(10);
            while started.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                std::thread::yield_now();
            }
            started.load(Ordering::SeqCst) == 2
        });
        assert_eq!(both, [true, true]);
    }

    #[test]
    fn uneven_work_keeps_order() {
        // Costly items at the end: handed out in blocks, gathered back in order.
        let items: Vec<u64> = (0..5000).collect();
        let f = |x: &u64| {
            if *x > 4000 {
                (0..2000).fold(*x, |a, b| a ^ b)
            } else {
                *x
            }
        };
        assert_eq!(
            super::par_map(&items, f),
            items.iter().map(f).collect::<Vec<_>>()
        );
    }
}
