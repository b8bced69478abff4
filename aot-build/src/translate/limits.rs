//! Fuel metering and epoch checks, compiled only when [`crate::Config::consume_fuel`] or
//! [`crate::Config::epoch_interruption`] asks for them (otherwise nothing here emits code).
//!
//! **Fuel** follows Wasmtime's scheme. `VMStoreContext::fuel_consumed` holds minus the fuel
//! left. A function loads it into a variable at entry; every operator adds its cost (1, or 0 for
//! `nop`, `drop`, `block`, `loop`, `else`, `end`, `return`, `unreachable`) to a compile-time
//! count that is added to the variable where a basic block ends (`loop`, `if`, `else`, `end`,
//! branches, calls, `return`, `unreachable`). The variable is written back before calls,
//! returns and `unreachable`, and reloaded after calls (the callee or the host may change it).
//! At function entry and at every loop header, a variable that is no longer negative stores the
//! count and traps with `OutOfFuel` (cold path). Unlike Wasmtime there is no out-of-fuel call:
//! a call on a loop's path, even a cold one, makes Cranelift keep the loop's values in
//! callee-saved registers or stack slots, which cost up to 40% on tight loops (measured on the
//! bench kernels); the trap costs nothing until taken.
//!
//! **Epochs.** At function entry and at every loop header the code loads the epoch counter
//! (through `VMStoreContext::epoch_ptr`) and compares it with the store's deadline, kept in a
//! variable like Wasmtime does: loaded at function entry and reloaded after every call (only
//! the host changes it, and only while the code is in a call). When the epoch has reached it,
//! the cold path reloads the deadline and, if it is still reached, calls the `NewEpoch` builtin,
//! which checks again; the code then traps with `Interrupt`. The counter is read with an
//! `atomic_load` (a plain `mov` on x86_64, `ldar` on aarch64): Cranelift never merges it with an
//! earlier load or hoists it out of a loop, so every check sees the other threads' increments.

use super::Cx;
use aot_runtime::artifact::Trap;
use aot_runtime::artifact::builtins::Builtin;
use aot_runtime::artifact::vmoffsets::{
    VMSTORE_EPOCH_DEADLINE, VMSTORE_EPOCH_PTR, VMSTORE_FUEL_CONSUMED,
};
use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, condcodes::IntCC, types::I64};
use cranelift_frontend::Variable;
use wasmparser::Operator as Op;

/// The fuel accounting of the function being translated.
pub(crate) struct Fuel {
    /// Minus the fuel left, as of the last flush.
    var: Variable,
    /// Cost of the operators since the last flush.
    pending: i64,
}

/// The epoch deadline of the function being translated, cached in a variable.
pub(crate) struct Epoch {
    deadline: Variable,
}

/// The fuel an operator costs (Wasmtime's default costs).
fn cost(op: &Op<'_>) -> i64 {
    match op {
        Op::Nop
        | Op::Drop
        | Op::Block { .. }
        | Op::Loop { .. }
        | Op::Unreachable
        | Op::Return
        | Op::Else
        | Op::End => 0,
        _ => 1,
    }
}

impl Cx<'_, '_> {
    /// The checks at function entry, after the locals are defined.
    pub fn limits_function_entry(&mut self) {
        if self.env.consume_fuel {
            let var = self.b.declare_var(I64);
            self.fuel = Some(Fuel { var, pending: 0 });
            self.fuel_load();
            self.fuel_check();
        }
        if self.env.epoch_interruption {
            let deadline = self.b.declare_var(I64);
            self.epoch = Some(Epoch { deadline });
            self.epoch_load_deadline();
            self.epoch_check();
        }
    }

    /// The checks at a loop header (the current block is the header).
    pub fn limits_loop_header(&mut self) {
        self.fuel_check();
        self.epoch_check();
    }

    /// Fuel accounting before a reachable operator is translated.
    pub fn fuel_before_op(&mut self, op: &Op<'_>) {
        let Some(fuel) = &mut self.fuel else {
            return;
        };
        fuel.pending += cost(op);
        match op {
            // Control leaves the function (or may, in a callee that reads the fuel): the count
            // must be in the store.
            Op::Unreachable
            | Op::Call { .. }
            | Op::CallIndirect { .. }
            | Op::ReturnCall { .. }
            | Op::ReturnCallIndirect { .. } => {
                self.fuel_flush();
                self.fuel_save();
            }
            // The end of a basic block. (`return` is saved where it is emitted, with every other
            // return; `block` starts no new block.)
            Op::Loop { .. }
            | Op::If { .. }
            | Op::Else
            | Op::End
            | Op::Br { .. }
            | Op::BrIf { .. }
            | Op::BrTable { .. }
            | Op::Return => self.fuel_flush(),
            _ => {}
        }
    }

    /// After an operator: a call may have changed the store's fuel and epoch deadline.
    pub fn limits_after_op(&mut self, op: &Op<'_>) {
        if self.reachable && matches!(op, Op::Call { .. } | Op::CallIndirect { .. }) {
            self.fuel_load();
            self.epoch_load_deadline();
        }
    }

    /// Before a `return` instruction: the count goes back to the store.
    pub fn fuel_before_return(&mut self) {
        self.fuel_flush();
        self.fuel_save();
    }

    /// Adds the pending cost to the variable.
    fn fuel_flush(&mut self) {
        let Some(fuel) = &mut self.fuel else {
            return;
        };
        let (var, pending) = (fuel.var, core::mem::take(&mut fuel.pending));
        if pending != 0 {
            let v = self.b.use_var(var);
            let v = self.b.ins().iadd_imm_s(v, pending);
            self.b.def_var(var, v);
        }
    }

    /// Loads `fuel_consumed` into the variable.
    fn fuel_load(&mut self) {
        let Some(var) = self.fuel.as_ref().map(|f| f.var) else {
            return;
        };
        let store = self.store_context();
        let flags = self.vm_mutable();
        let v = self
            .b
            .ins()
            .load(I64, flags, store, VMSTORE_FUEL_CONSUMED as i32);
        self.b.def_var(var, v);
    }

    /// Stores the variable into `fuel_consumed`.
    fn fuel_save(&mut self) {
        let Some(var) = self.fuel.as_ref().map(|f| f.var) else {
            return;
        };
        let store = self.store_context();
        let flags = self.vm_mutable();
        let v = self.b.use_var(var);
        self.b
            .ins()
            .store(flags, v, store, VMSTORE_FUEL_CONSUMED as i32);
    }

    /// Traps with `OutOfFuel` (after storing the count) when the variable is no longer
    /// negative.
    fn fuel_check(&mut self) {
        let Some(var) = self.fuel.as_ref().map(|f| f.var) else {
            return;
        };
        self.fuel_flush();
        let fuel = self.b.use_var(var);
        let out = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, fuel, 0);
        let cont = self.cold_branch(out);
        self.fuel_save();
        self.b.ins().trap(super::trap_code(Trap::OutOfFuel));
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }

    /// Loads the store's epoch deadline into the variable.
    fn epoch_load_deadline(&mut self) {
        let Some(var) = self.epoch.as_ref().map(|e| e.deadline) else {
            return;
        };
        let store = self.store_context();
        let flags = self.vm_mutable();
        let deadline = self
            .b
            .ins()
            .load(I64, flags, store, VMSTORE_EPOCH_DEADLINE as i32);
        self.b.def_var(var, deadline);
    }

    /// Calls the `NewEpoch` builtin when the epoch has reached the store's deadline.
    fn epoch_check(&mut self) {
        let Some(var) = self.epoch.as_ref().map(|e| e.deadline) else {
            return;
        };
        let epoch_ptr = self.store_constant(self.ptr, VMSTORE_EPOCH_PTR);
        // Written by other threads: a plain load, never hoisted (not `can_move`).
        let epoch = self
            .b
            .ins()
            .atomic_load(I64, MemFlagsData::trusted(), epoch_ptr);
        let deadline = self.b.use_var(var);
        let reached = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        let cold = self.cold_branch(reached);
        // The cached deadline may be stale: check against the store's before calling out.
        self.epoch_load_deadline();
        let deadline = self.b.use_var(var);
        let still = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        let colder = self.cold_branch(still);
        self.call_checked_builtin(Builtin::NewEpoch, &[], Trap::Interrupt);
        self.epoch_load_deadline();
        self.end_cold_branch(colder);
        self.end_cold_branch(cold);
    }

    /// Branches to a new cold block when `cond` is true and switches to it; returns the block
    /// where both paths meet, for [`Cx::end_cold_branch`].
    fn cold_branch(&mut self, cond: ir::Value) -> ir::Block {
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(cond, cold, &[], cont, &[]);
        self.b.seal_block(cold);
        self.b.switch_to_block(cold);
        cont
    }

    /// Ends a cold path: jumps to `cont` and continues there.
    fn end_cold_branch(&mut self, cont: ir::Block) {
        self.b.ins().jump(cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, compile_functions_on, environ};
    use aot_runtime::artifact::format::SECTION_COMPAT;
    use aot_runtime::artifact::header::{FLAG_CONSUME_FUEL, FLAG_EPOCH_INTERRUPTION};
    use aot_runtime::artifact::{CompatRecord, Trap};
    use object::{Object, ObjectSection};

    const WAT: &str = r#"
    (module
      (memory 1)
      (func $sum (export "sum") (param i32) (result i32) (local i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get 0)))
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br $l)))
        (local.get 1))
      (func (export "twice") (param i32) (result i32)
        (i32.add (call $sum (local.get 0)) (call $sum (local.get 0))))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
    "#;

    /// A function's code and trap sites.
    type Code = (Vec<u8>, Vec<(u32, Trap)>);

    /// The code and trap sites of every function of `WAT` under `config`.
    fn functions(config: &Config) -> Vec<Code> {
        let setup = config.resolve().unwrap();
        let isa = setup.build_isa().unwrap();
        let wasm = wat::parse_str(WAT).unwrap();
        let env = environ::parse(&wasm, &config.features).unwrap();
        compile_functions_on(1, config, &setup, &env.info, env.bodies, &*isa)
            .unwrap()
            .into_iter()
            .map(|(f, _)| (f.code, f.traps))
            .collect()
    }

    fn has_trap(funcs: &[Code], trap: Trap) -> usize {
        funcs
            .iter()
            .filter(|(_, traps)| traps.iter().any(|(_, t)| *t == trap))
            .count()
    }

    fn compat_flags(artifact: &[u8]) -> u8 {
        let file = object::File::parse(artifact).unwrap();
        let section = file.section_by_name(SECTION_COMPAT).unwrap();
        CompatRecord::decode(section.data().unwrap()).unwrap().flags
    }

    #[test]
    fn options_off_change_nothing() {
        let mut off = Config::new();
        off.consume_fuel(false).epoch_interruption(false);
        let default = functions(&Config::new());
        assert_eq!(functions(&off), default);
        assert_eq!(has_trap(&default, Trap::OutOfFuel), 0);
        assert_eq!(has_trap(&default, Trap::Interrupt), 0);
        let bytes = |c: &Config| c.compile_bytes(WAT.as_bytes()).unwrap();
        assert_eq!(bytes(&off), bytes(&Config::new()));
        assert_eq!(compat_flags(&bytes(&off)), 0);
    }

    #[test]
    fn fuel_checks_every_function_and_is_recorded() {
        let mut config = Config::new();
        config.consume_fuel(true);
        let funcs = functions(&config);
        assert_eq!(has_trap(&funcs, Trap::OutOfFuel), funcs.len());
        assert_eq!(has_trap(&funcs, Trap::Interrupt), 0);
        // The loop adds a second check to `sum`.
        let sites = |f: &Code| f.1.iter().filter(|(_, t)| *t == Trap::OutOfFuel).count();
        assert_eq!(sites(&funcs[0]), 2);
        assert_eq!(sites(&funcs[1]), 1);
        let plain = functions(&Config::new());
        assert!(funcs.iter().zip(&plain).all(|(f, p)| f.0.len() > p.0.len()));
        let artifact = config.compile_bytes(WAT.as_bytes()).unwrap();
        assert_eq!(compat_flags(&artifact), FLAG_CONSUME_FUEL);
    }

    #[test]
    fn epoch_checks_every_function_and_is_recorded() {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let funcs = functions(&config);
        assert_eq!(has_trap(&funcs, Trap::Interrupt), funcs.len());
        assert_eq!(has_trap(&funcs, Trap::OutOfFuel), 0);
        config.consume_fuel(true);
        let artifact = config.compile_bytes(WAT.as_bytes()).unwrap();
        assert_eq!(
            compat_flags(&artifact),
            FLAG_CONSUME_FUEL | FLAG_EPOCH_INTERRUPTION
        );
    }

    #[test]
    fn operator_costs_follow_wasmtime() {
        use wasmparser::Operator as Op;
        assert_eq!(super::cost(&Op::Nop), 0);
        assert_eq!(super::cost(&Op::Drop), 0);
        assert_eq!(super::cost(&Op::End), 0);
        assert_eq!(super::cost(&Op::Return), 0);
        assert_eq!(super::cost(&Op::I32Add), 1);
        assert_eq!(super::cost(&Op::Call { function_index: 0 }), 1);
        assert_eq!(super::cost(&Op::BrIf { relative_depth: 0 }), 1);
    }
}
