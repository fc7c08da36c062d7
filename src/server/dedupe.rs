//! Recently seen delivery ids, so that a delivery GitHub (or an operator)
//! sends twice is processed once. Bounded: the oldest ids are forgotten first.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

pub struct RecentDeliveries {
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
    capacity: usize,
}

impl RecentDeliveries {
    pub fn new(capacity: usize) -> RecentDeliveries {
        RecentDeliveries {
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// Records `id`; false when it was already recorded.
    pub fn first_sighting(&self, id: &str) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *guard;
        if set.contains(id) {
            return false;
        }
        if order.len() >= self.capacity
            && let Some(oldest) = order.pop_front()
        {
            set.remove(&oldest);
        }
        set.insert(id.to_string());
        order.push_back(id.to_string());
        true
    }

    /// Forgets `id`, so that a redelivery of a delivery we could not take
    /// (queue full, shutting down) is processed.
    pub fn forget(&self, id: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *guard;
        if set.remove(id) {
            order.retain(|x| x != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_id_is_seen_once() {
        let seen = RecentDeliveries::new(4);
        assert!(seen.first_sighting("a"));
        assert!(!seen.first_sighting("a"));
        seen.forget("a");
        assert!(seen.first_sighting("a"));
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_go_first() {
        let seen = RecentDeliveries::new(3);
        for id in ["a", "b", "c", "d"] {
            assert!(seen.first_sighting(id));
        }
        assert!(seen.first_sighting("a"), "a was evicted by d");
        assert!(!seen.first_sighting("d"));
        let inner = seen.inner.lock().expect("not poisoned");
        assert_eq!(inner.0.len(), 3);
        assert_eq!(inner.1.len(), 3);
    }
}
