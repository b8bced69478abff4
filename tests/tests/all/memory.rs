//! Linear memory growth and limits, from wasm (`memory.grow`) and from the host
//! (`Memory::grow`), with data written on either side visible on the other after growth.

use aot_runtime::{Memory, MemoryType, Store, Trap};

const WAT: &str = r#"
(module
  (memory (export "memory") 1 3)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
"#;

const PAGE: usize = 65536;

#[test]
fn grow_within_and_beyond_the_maximum() {
    let module = aot_tests::module(WAT);
    let mut store = Store::new(());
    let instance = aot_runtime::Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    let size = instance
        .get_typed_func::<(), i32>(&mut store, "size")
        .unwrap();
    let store_fn = instance
        .get_typed_func::<(i32, i32), ()>(&mut store, "store")
        .unwrap();
    let load = instance
        .get_typed_func::<i32, i32>(&mut store, "load")
        .unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();

    assert_eq!(memory.ty(&store).minimum(), 1);
    assert_eq!(memory.ty(&store).maximum(), Some(3));
    assert_eq!(grow.call(&mut store, 0).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(size.call(&mut store, ()).unwrap(), 2);
    assert_eq!(memory.size(&store), 2);
    assert_eq!(memory.data_size(&store), 2 * PAGE);

    // Data written by wasm in the new page is visible from the host.
    store_fn
        .call(&mut store, ((PAGE + 100) as i32, 0x1234_5678))
        .unwrap();
    assert_eq!(
        memory.data(&store)[PAGE + 100..PAGE + 104],
        0x1234_5678i32.to_le_bytes()
    );

    // The host grows to the maximum; wasm sees it and writes there.
    assert_eq!(memory.grow(&mut store, 1).unwrap(), 2);
    assert_eq!(size.call(&mut store, ()).unwrap(), 3);
    memory.data_mut(&mut store)[3 * PAGE - 4..].copy_from_slice(&7i32.to_le_bytes());
    assert_eq!(load.call(&mut store, (3 * PAGE - 4) as i32).unwrap(), 7);
    let mut buf = [0; 4];
    memory.read(&store, PAGE + 100, &mut buf).unwrap();
    assert_eq!(i32::from_le_bytes(buf), 0x1234_5678);
    memory.write(&mut store, 2 * PAGE, &[9, 0, 0, 0]).unwrap();
    assert_eq!(load.call(&mut store, (2 * PAGE) as i32).unwrap(), 9);
    assert!(memory.read(&store, 3 * PAGE - 2, &mut buf).is_err());

    // Beyond the maximum: -1 in wasm, `Err` from the host, and nothing changes.
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(grow.call(&mut store, 0).unwrap(), 3);
    assert_eq!(memory.data_size(&store), 3 * PAGE);
    let err = load.call(&mut store, (3 * PAGE) as i32).unwrap_err();
    assert_eq!(err.trap(), Some(Trap::MemoryOutOfBounds));
    assert_eq!(load.call(&mut store, (3 * PAGE - 4) as i32).unwrap(), 7);
}

#[test]
fn growth_without_a_maximum_stops_at_the_32_bit_limit() {
    let module = aot_tests::module(
        r#"(module (memory 0) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    );
    let mut store = Store::new(());
    let instance = aot_runtime::Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, 65537).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 2).unwrap(), 0);
    assert_eq!(grow.call(&mut store, 0).unwrap(), 2);
}

#[test]
fn host_memory_limits() {
    let mut store = Store::new(());
    let memory = Memory::new(&mut store, MemoryType::new(1, Some(2))).unwrap();
    assert_eq!(memory.size(&store), 1);
    assert!(memory.data(&store).iter().all(|b| *b == 0));
    assert_eq!(memory.grow(&mut store, 1).unwrap(), 1);
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(memory.size(&store), 2);
}

/// A module whose data segments span more than 64 KiB, so its memory is initialized from a
/// copy-on-write image: every instance sees the data, writes stay private to the instance, and
/// overlapping segments keep the spec's order (the later one wins).
#[test]
fn large_data_segments_are_private_to_each_instance() {
    let pattern: String = (0..200_000u32)
        .map(|i| format!("\\{:02x}", (i * 7 % 251) as u8))
        .collect();
    let wat = format!(
        r#"(module
          (memory (export "mem") 8)
          (data (i32.const 16) "{pattern}")
          (data (i32.const 300000) "first")
          (data (i32.const 300000) "second")
          (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
          (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#
    );
    let module = aot_tests::module(&wat);
    let mut store = Store::new(());
    let a = aot_runtime::Instance::new(&mut store, &module, &[]).unwrap();
    let b = aot_runtime::Instance::new(&mut store, &module, &[]).unwrap();
    let expected = |i: usize| (i as u32 * 7 % 251) as u8;
    for instance in [a, b] {
        let mem = instance.get_memory(&mut store, "mem").unwrap();
        let data = mem.data(&store);
        assert_eq!(data[..16], [0; 16]);
        assert!((0..200_000).all(|i| data[16 + i] == expected(i)));
        assert_eq!(&data[300_000..300_006], b"second");
        assert_eq!(data[8 * 65536 - 1], 0);
    }
    let store8 = a
        .get_typed_func::<(i32, i32), ()>(&mut store, "store8")
        .unwrap();
    store8.call(&mut store, (16, 0xee)).unwrap();
    let load8 = |inst: aot_runtime::Instance, store: &mut Store<()>, at: i32| {
        inst.get_typed_func::<i32, i32>(&mut *store, "load8")
            .unwrap()
            .call(&mut *store, at)
            .unwrap()
    };
    assert_eq!(load8(a, &mut store, 16), 0xee);
    assert_eq!(load8(b, &mut store, 16), i32::from(expected(0)));
    // A third instance still starts from the original data.
    let c = aot_runtime::Instance::new(&mut store, &module, &[]).unwrap();
    assert_eq!(load8(c, &mut store, 16), i32::from(expected(0)));
    // Growth keeps the data.
    let mem = c.get_memory(&mut store, "mem").unwrap();
    mem.grow(&mut store, 2).unwrap();
    assert_eq!(mem.data(&store)[300_000..300_006], *b"second");
}
