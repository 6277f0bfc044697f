//! Decodes a `commands` fuzz input (a corpus file or a crash artifact), prints each step with the replies
//! it produced, and runs the same checks as the fuzz target — the quickest way to see what a crash input
//! does:
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/target-fuzz cargo run --manifest-path fuzz/Cargo.toml --example show_script -- FILE
//! ```

use arbitrary::{Arbitrary, Unstructured};
use keel_fuzz::script::{Harness, Script, Step, MAX_STEPS};

fn main() {
    let path = std::env::args().nth(1).expect("usage: show_script FILE");
    let data = std::fs::read(&path).expect("read the input file");
    let script = match Script::arbitrary_take_rest(Unstructured::new(&data)) {
        Ok(script) => script,
        Err(e) => {
            println!("does not decode ({e}): the fuzz target ignores this input");
            return;
        }
    };
    println!("setup: {:?}", script.setup);
    let mut harness = Harness::new(script.setup);
    harness.trace = true;
    for step in script.steps.iter().take(MAX_STEPS) {
        if !matches!(step, Step::Run { .. }) {
            println!("-- {step:?}");
        }
        if !harness.step(step) {
            println!("-- server shut down");
            break;
        }
    }
}
