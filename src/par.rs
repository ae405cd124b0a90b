//! A small scoped-thread `map` for the embarrassingly parallel steps (parsing files, matching
//! patterns, writing objects). Results keep the input order, so output stays deterministic.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Builds `count` pieces of output with `build(piece, buffer)` on all cores, a few pieces at a
/// time, and hands each to `sink` in order as soon as its turn comes: memory holds those few
/// pieces, never the whole output. Stops at the first error of `sink`.
pub fn par_stream<E>(
    count: usize,
    build: impl Fn(usize, &mut String) + Sync,
    mut sink: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let window = 2 * threads;
    let mut next = 0;
    while next < count {
        let pieces: Vec<usize> = (next..(next + window).min(count)).collect();
        let texts = par_map_pieces(&pieces, |&piece| {
            let mut text = String::new();
            build(piece, &mut text);
            text
        });
        for text in &texts {
            sink(text)?;
        }
        next += pieces.len();
    }
    Ok(())
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
