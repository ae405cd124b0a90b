//! A small scoped-thread `map` for the embarrassingly parallel steps (parsing files, matching
//! patterns, writing objects). Results keep the input order, so output stays deterministic.

use std::num::NonZeroUsize;
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
fn map_split<T: Sync, R: Send>(
    items: &[T],
    min_items: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if threads < 2 || items.len() < min_items {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            super::par_map(&items, |x| x * 2),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn pieces_run_on_more_than_one_thread() {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let ids = super::par_map_pieces(&[0, 1], |_| std::thread::current().id());
        assert_eq!(ids.len(), 2);
        if threads > 1 {
            assert_ne!(ids[0], ids[1], "two pieces, two threads");
        }
    }
}
