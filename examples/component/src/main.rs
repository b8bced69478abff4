//! An example of running a WebAssembly *component* compiled ahead of time.
//!
//! The component (`wasm/inventory.wasm`, written in C) keeps a small inventory. Its interface is
//! described in WIT (`wasm/inventory.wit`): it imports a `host` interface with a `log` function,
//! which this program provides, and exports a `store` interface whose functions take and return
//! records, lists, options, results and strings. `build.rs` compiled it to native code while the
//! crate was built; no compiler runs here.

use aot_runtime::component::{Component, ComponentType, Lift, Linker, Lower};
use aot_runtime::{EmbeddedComponent, Store, include_component};

// Embed the artifact `build.rs` wrote. `include_component!` checks at compile time that it holds
// a component (a core module here would be a compile error saying to use `include_module!`).
static INVENTORY: EmbeddedComponent = include_component!("wasm/inventory.wasm");

// Rust counterparts of the WIT types. The derives generate the canonical ABI code; field and
// case names are matched with the WIT names in kebab-case (`price_cents` is `price-cents`), and
// checked against the component's types when a function is looked up.

/// `record item { name: string, quantity: u32, price-cents: u64 }`
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Item {
    name: String,
    quantity: u32,
    price_cents: u64,
}

/// `record summary { distinct-items: u32, total-value-cents: u64, low-stock: list<string> }`
#[derive(ComponentType, Lift, Lower, Debug)]
#[component(record)]
struct Summary {
    distinct_items: u32,
    total_value_cents: u64,
    low_stock: Vec<String>,
}

/// `enum level { info, warn }`
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug)]
#[component(enum)]
enum Level {
    Info,
    Warn,
}

/// The interface names, as the component's WIT spells them.
const HOST: &str = "example:inventory/host@0.1.0";
const STORE: &str = "example:inventory/store@0.1.0";

fn main() -> aot_runtime::Result<()> {
    // Loading checks that the artifact was built for this machine by the matching aot-build and
    // maps the code of all the component's core modules at once.
    let component = Component::from_embedded(&INVENTORY)?;

    // The store's data is what host functions can reach: here, the lines the guest logged.
    let mut store = Store::new(Vec::<String>::new());

    // Provide the imported `host` interface. `func_wrap` takes the parameters as a tuple and
    // returns the results as a tuple; the types are checked against the import at instantiation.
    let mut linker = Linker::<Vec<String>>::new();
    linker
        .instance(HOST)?
        .func_wrap("log", |mut store, (level, msg): (Level, String)| {
            store.data_mut().push(format!("[{level:?}] {msg}"));
            Ok(())
        })?;
    let instance = linker.instantiate(&mut store, &component)?;

    // Typed functions of the exported interface, named `<interface>#<function>`. A mismatch
    // between these Rust types and the WIT types is an error here, before any call.
    let add = instance
        .get_typed_func::<(Item,), (Result<u32, String>,)>(&mut store, &format!("{STORE}#add"))?;
    let take = instance
        .get_typed_func::<(&str, u32), (Option<Item>,)>(&mut store, &format!("{STORE}#take"))?;
    let summarize =
        instance.get_typed_func::<(u32,), (Summary,)>(&mut store, &format!("{STORE}#summarize"))?;

    // Records, strings and results cross the boundary by value: the runtime copies them into
    // the guest's memory (through its `realloc`) and back, checking every pointer.
    for (name, quantity, price_cents) in [("apple", 40, 25), ("pear", 3, 40), ("fig", 12, 90)] {
        let item = Item {
            name: name.to_string(),
            quantity,
            price_cents,
        };
        let (count,) = add.call(&mut store, (item,))?;
        println!("add({name}) -> {count:?}");
    }
    let (refused,) = add.call(
        &mut store,
        (Item {
            name: String::new(),
            quantity: 1,
            price_cents: 1,
        },),
    )?;
    println!("add(<no name>) -> {refused:?}");

    let (fig,) = take.call(&mut store, ("fig", 20))?;
    println!("take(fig, 20) -> {fig:?}");
    let (kiwi,) = take.call(&mut store, ("kiwi", 1))?;
    println!("take(kiwi, 1) -> {kiwi:?}");

    let (summary,) = summarize.call(&mut store, (10,))?;
    println!("summarize(10) -> {summary:?}");
    for line in store.data() {
        println!("guest log: {line}");
    }

    assert_eq!(refused, Err("an item needs a name".to_string()));
    assert_eq!(fig.map(|item| item.quantity), Some(0));
    assert_eq!(kiwi, None);
    assert_eq!(summary.distinct_items, 3);
    assert_eq!(summary.total_value_cents, 40 * 25 + 3 * 40);
    assert_eq!(summary.low_stock, ["pear", "fig"]);
    Ok(())
}
