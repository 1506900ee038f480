#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

use super::*;

#[test]
fn replays_oldest_first_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1024).unwrap();
    for i in 0..3u8 {
        assert_eq!(spool.append(&[i; 10], u64::from(i) + 1).unwrap(), Appended::Stored);
    }
    let first = spool.oldest().unwrap();
    assert_eq!(spool.read(&first).unwrap(), vec![0; 10]);
    spool.remove(&first).unwrap();
    assert_eq!(spool.pending(), (5, 20));
    // A crash: the process goes away without any shutdown, and a half-written batch remains.
    drop(spool);
    fs::write(dir.path().join(format!("{:020}-9.tmp", 7)), b"half").unwrap();

    let reopened = Spool::open(dir.path(), 1024).unwrap();
    assert_eq!(reopened.pending(), (5, 20));
    let next = reopened.oldest().unwrap();
    assert_eq!((next.seq, next.records), (1, 2));
    assert_eq!(reopened.read(&next).unwrap(), vec![1; 10]);
    reopened.remove(&next).unwrap();
    assert_eq!(reopened.append(b"new", 1).unwrap(), Appended::Stored);
    let order: Vec<u64> = std::iter::from_fn(|| {
        let e = reopened.oldest()?;
        reopened.remove(&e).unwrap();
        Some(e.seq)
    })
    .collect();
    assert_eq!(order, vec![2, 3], "new batches queue behind the recovered ones");
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "tmp file and replayed batches are gone: {leftovers:?}");
}

#[test]
fn refuses_batches_past_the_bound_and_frees_space_on_remove() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 25).unwrap();
    assert_eq!(spool.append(&[0; 10], 1).unwrap(), Appended::Stored);
    assert_eq!(spool.append(&[1; 10], 1).unwrap(), Appended::Stored);
    assert_eq!(spool.append(&[2; 10], 1).unwrap(), Appended::Full);
    assert_eq!(spool.append(&[3; 5], 1).unwrap(), Appended::Stored, "exactly at the bound fits");
    assert_eq!(spool.pending(), (3, 25));
    let oldest = spool.oldest().unwrap();
    spool.remove(&oldest).unwrap();
    assert_eq!(spool.append(&[4; 10], 1).unwrap(), Appended::Stored);
    assert_eq!(spool.pending(), (3, 25));
}

#[test]
fn rejected_batches_move_aside_and_stop_counting() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 100).unwrap();
    spool.append(b"poison", 4).unwrap();
    spool.append(b"fine", 1).unwrap();
    let poison = spool.oldest().unwrap();
    let moved = spool.reject(&poison).unwrap();
    assert_eq!(fs::read(moved).unwrap(), b"poison");
    assert_eq!(spool.pending(), (1, 4));
    assert_eq!(spool.oldest().unwrap().records, 1);
    let reopened = Spool::open(dir.path(), 100).unwrap();
    assert_eq!(reopened.pending(), (1, 4), "rejected files are not replayed");
}

#[test]
fn counting_from_a_mark_never_skips_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 100).unwrap();
    assert_eq!(spool.records_from(0), (0, 0));
    spool.append(b"a", 2).unwrap();
    spool.append(b"b", 3).unwrap();
    assert_eq!(spool.records_from(0), (5, 2));
    assert_eq!(spool.records_from(2), (0, 2), "nothing new since the mark");
    // A batch with a number but not yet in the index (mid-write) is not passed over.
    spool.lock().next_seq += 1;
    assert_eq!(spool.records_from(2), (0, 2));
    let oldest = spool.oldest().unwrap();
    spool.remove(&oldest).unwrap();
    assert_eq!(spool.records_from(1), (3, 2));
}
