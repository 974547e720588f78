//! Work on a slice in two halves, the second on a thread of its own: how the
//! stages that handle every user of a large org (sorting the accounts, the
//! planner's look-ups and decisions) use the second core.

/// `f` of the first and of the second half of `items` (the first half holds the
/// odd item), the second on another thread.
pub(crate) fn in_halves<T: Send, R: Send>(
    items: &mut [T],
    f: impl Fn(&mut [T]) -> R + Sync,
) -> (R, R) {
    let (first, second) = items.split_at_mut(items.len().div_ceil(2));
    std::thread::scope(|scope| {
        let second = scope.spawn(|| f(second));
        let first = f(first);
        let second = second
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn halves_cover_every_item_once_in_order(items in proptest::collection::vec(0u32..1000, 0..40)) {
            let mut split = items.clone();
            let (first, second) = in_halves(&mut split, |part| part.to_vec());
            proptest::prop_assert_eq!(first.len(), items.len().div_ceil(2));
            proptest::prop_assert_eq!([first, second].concat(), items);
        }
    }
}
