//! Access to the VM context from translated code: linear memory addresses (guard pages or
//! explicit bounds checks), globals, tables, function references, calls and builtins.
//!
//! Every offset comes from [`aot_runtime::artifact::VMOffsets`]; nothing here hard-codes a
//! layout.

use super::{Cx, clif_type, trap_code, wasm_signature};
use aot_runtime::artifact::builtins::{Builtin, BuiltinType, FUNCREF_INIT_BIT, GROW_TRAP};
use aot_runtime::artifact::{
    FuncIndex, GlobalIndex, MemoryIndex, TableIndex, Trap, TypeIndex, ValType,
};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, InstBuilder, MemFlagsData, condcodes::IntCC,
};
use cranelift_codegen::isa::CallConv;

/// Flags for loads of VM context fields that are set at instantiation and never change while
/// code runs (pointers to imported entities, memory bases, the builtins and type-id tables): the
/// VM context is always valid, so such a load may also be hoisted out of loops and above checks.
fn vm_const() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Flags for loads of the fields of a `VMFuncRef` reached through a function reference: they
/// never change, but the load must stay below the null check that guards it.
fn func_ref_field() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

impl Cx<'_, '_> {
    /// Flags for VM context fields that change while code runs (memory lengths, table bases and
    /// sizes, globals). Their own alias region lets them stay in registers across heap and table
    /// stores; calls (which may grow a memory or a table) still invalidate them.
    pub fn vm_mutable(&self) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(self.regions.vmctx))
    }

    /// Flags for the elements of a table.
    pub fn table_element(&self) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(self.regions.table))
    }

    /// Flags for a Wasm linear-memory access: little-endian, never assumed aligned. With guard
    /// pages the access itself is the bounds check, so it may trap (out of bounds). With explicit
    /// bounds checks the check before it is the only one: the access is marked non-trapping, so
    /// an access that escaped its check faults at a PC that is not a trap site and is never
    /// mistaken for a Wasm trap.
    pub fn heap_flags(&self) -> MemFlagsData {
        let flags = MemFlagsData::new()
            .with_endianness(ir::Endianness::Little)
            .with_alias_region(Some(self.regions.heap));
        if self.env.explicit_bounds_checks {
            flags.with_notrap()
        } else {
            flags
        }
    }

    fn vm_load(
        &mut self,
        ty: ir::Type,
        base: ir::Value,
        offset: u32,
        flags: MemFlagsData,
    ) -> ir::Value {
        self.b.ins().load(ty, flags, base, offset as i32)
    }

    /// Where the definition record of a memory or table is: the VM context itself (with the
    /// record's offset) for a defined entity, or the pointer stored in the VM context for an
    /// imported one.
    fn definition(
        &mut self,
        defined_offset: Option<u32>,
        imported_offset: u32,
    ) -> (ir::Value, u32) {
        match defined_offset {
            Some(off) => (self.vmctx, off),
            None => {
                let ptr = self.vm_load(self.ptr, self.vmctx, imported_offset, vm_const());
                (ptr, 0)
            }
        }
    }

    /// Loads a pointer-sized field that may change while code runs (lengths, table bases).
    fn load_mutable(&mut self, (base, off): (ir::Value, u32), field: u32) -> ir::Value {
        self.vm_load(self.ptr, base, off + field, self.vm_mutable())
    }

    /// The `VMMemoryDefinition` of `mem`.
    fn memory_definition(&mut self, mem: MemoryIndex) -> (ir::Value, u32) {
        let o = self.env.offsets;
        let defined = self
            .env
            .info
            .defined_memory_index(mem)
            .map(|d| o.memory(d.0));
        self.definition(defined, o.imported_memory(mem.0))
    }

    /// Current length in bytes of `mem`.
    pub fn memory_length(&mut self, mem: MemoryIndex) -> ir::Value {
        let def = self.memory_definition(mem);
        self.load_mutable(def, self.env.offsets.memory_current_length())
    }

    /// The native address of a `size`-byte access at `index + offset` in memory `mem`, with the
    /// bounds check explicit mode needs. Guard mode needs none: the reservation covers any
    /// 32-bit index plus any 32-bit offset, and faults outside the accessible pages.
    pub fn memory_address(
        &mut self,
        mem: MemoryIndex,
        index: ir::Value,
        offset: u64,
        size: u32,
    ) -> ir::Value {
        let (def, off) = self.memory_definition(mem);
        let o = self.env.offsets;
        // The base of a memory never moves (it is a fixed reservation), so it can be hoisted.
        let base = self.vm_load(self.ptr, def, off + o.memory_base(), vm_const());
        let index = self.b.ins().uextend(self.ptr, index);
        if self.env.explicit_bounds_checks {
            let length = self.load_mutable((def, off), o.memory_current_length());
            let end = self
                .b
                .ins()
                .iadd_imm_s(index, (offset + u64::from(size)) as i64);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, length);
            self.b.ins().trapnz(oob, trap_code(Trap::MemoryOutOfBounds));
        }
        let addr = self.b.ins().iadd(base, index);
        if offset == 0 {
            addr
        } else {
            self.b.ins().iadd_imm_s(addr, offset as i64)
        }
    }

    /// Address of the storage of global `g` (its value is at offset 0).
    pub fn global_address(&mut self, g: GlobalIndex) -> ir::Value {
        let o = self.env.offsets;
        match self.env.info.defined_global_index(g) {
            Some(def) => self
                .b
                .ins()
                .iadd_imm_s(self.vmctx, i64::from(o.global(def.0))),
            None => self.vm_load(self.ptr, self.vmctx, o.imported_global(g.0), vm_const()),
        }
    }

    /// `global.get`.
    pub fn global_get(&mut self, g: GlobalIndex) -> ir::Value {
        let ty = self.env.info.globals[g.index()].content;
        let addr = self.global_address(g);
        let ty = clif_type(self.env.isa, ty);
        let flags = self.vm_mutable();
        self.b.ins().load(ty, flags, addr, 0)
    }

    /// `global.set`.
    pub fn global_set(&mut self, g: GlobalIndex, value: ir::Value) {
        let addr = self.global_address(g);
        let flags = self.vm_mutable();
        self.b.ins().store(flags, value, addr, 0);
    }

    /// The `VMTableDefinition` of `table`.
    fn table_definition(&mut self, table: TableIndex) -> (ir::Value, u32) {
        let o = self.env.offsets;
        let defined = self
            .env
            .info
            .defined_table_index(table)
            .map(|d| o.table(d.0));
        self.definition(defined, o.imported_table(table.0))
    }

    /// Current number of elements of `table` (pointer-sized).
    pub fn table_size(&mut self, table: TableIndex) -> ir::Value {
        let def = self.table_definition(table);
        self.load_mutable(def, self.env.offsets.table_current_elements())
    }

    /// Address of element `index` (i32) of `table`, trapping when it is out of bounds.
    pub fn table_element_address(&mut self, table: TableIndex, index: ir::Value) -> ir::Value {
        let (def, off) = self.table_definition(table);
        let o = self.env.offsets;
        let size = self.load_mutable((def, off), o.table_current_elements());
        let index = self.b.ins().uextend(self.ptr, index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, size);
        self.b.ins().trapnz(oob, trap_code(Trap::TableOutOfBounds));
        // A table's storage moves when it grows.
        let base = self.load_mutable((def, off), o.table_base());
        let scaled = self.b.ins().imul_imm_u(index, i64::from(o.ptr));
        self.b.ins().iadd(base, scaled)
    }

    /// The `VMFuncRef` of function `f` in this instance (`ref.func`). An imported function's is
    /// written at instantiation; a defined function's is written by the runtime whenever a
    /// reference to it is taken, so this asks the runtime for it.
    pub fn func_ref(&mut self, f: FuncIndex) -> ir::Value {
        if self.env.info.defined_func_index(f).is_none() {
            let off = self.env.offsets.func_ref(f.0);
            return self.b.ins().iadd_imm_s(self.vmctx, i64::from(off));
        }
        let index = self.i32_const(f.0);
        self.call_builtin(Builtin::RefFunc, &[index])
            .expect("ref.func returns a reference")
    }

    /// `ready` if `check` is non-zero, else the result of `init`, emitted in a cold block.
    fn lazily(
        &mut self,
        check: ir::Value,
        ready: ir::Value,
        init: impl FnOnce(&mut Self) -> ir::Value,
    ) -> ir::Value {
        let cold = self.b.create_block();
        let done = self.b.create_block();
        let ty = self.b.func.dfg.value_type(ready);
        self.b.append_block_param(done, ty);
        self.b.set_cold_block(cold);
        self.b
            .ins()
            .brif(check, done, &[BlockArg::Value(ready)], cold, &[]);
        self.b.switch_to_block(cold);
        self.b.seal_block(cold);
        let value = init(self);
        self.b.ins().jump(done, &[BlockArg::Value(value)]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        self.b.block_params(done)[0]
    }

    /// Whether the elements of `table` are funcref words (tagged, initialized lazily; see
    /// `FUNCREF_INIT_BIT`).
    fn is_funcref_table(&self, table: TableIndex) -> bool {
        self.env.info.tables[table.index()].element == ValType::FuncRef
    }

    /// `table.get` (and the load of `call_indirect`): the untagged reference in slot `index` of
    /// `table`, after its bounds check; an uninitialized funcref slot is filled by the runtime.
    pub fn table_get(&mut self, table: TableIndex, index: ir::Value) -> ir::Value {
        let addr = self.table_element_address(table, index);
        let flags = self.table_element();
        let word = self.b.ins().load(self.ptr, flags, addr, 0);
        if !self.is_funcref_table(table) {
            return word;
        }
        let value = self.b.ins().band_imm_s(word, !(FUNCREF_INIT_BIT as i64));
        let t = self.i32_const(table.0);
        self.lazily(word, value, |cx| {
            cx.call_builtin(Builtin::TableGetLazy, &[t, index])
                .expect("the lazy table read returns a reference")
        })
    }

    /// `table.set`: stores the untagged reference `value` in slot `index` of `table`.
    pub fn table_set(&mut self, table: TableIndex, index: ir::Value, value: ir::Value) {
        let addr = self.table_element_address(table, index);
        let flags = self.table_element();
        let word = if self.is_funcref_table(table) {
            self.b.ins().bor_imm_u(value, FUNCREF_INIT_BIT as i64)
        } else {
            value
        };
        self.b.ins().store(flags, word, addr, 0);
    }

    fn signature_ref(&mut self, ty: TypeIndex) -> ir::SigRef {
        if let Some(&s) = self.sigs.get(&ty) {
            return s;
        }
        let sig = wasm_signature(self.env.isa, &self.env.info.types[ty.index()]);
        let s = self.b.import_signature(sig);
        self.sigs.insert(ty, s);
        s
    }

    fn direct_func_ref(&mut self, f: FuncIndex) -> ir::FuncRef {
        if let Some(&r) = self.funcs.get(&f) {
            return r;
        }
        let signature = self.signature_ref(self.env.info.funcs[f.index()]);
        let name = self
            .b
            .func
            .declare_imported_user_function(ir::UserExternalName::new(0, f.0));
        let r = self.b.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.funcs.insert(f, r);
        r
    }

    /// `call` and `return_call`.
    pub fn translate_call(&mut self, f: FuncIndex, tail: bool) {
        let ty = self.env.info.funcs[f.index()];
        let n = self.env.info.types[ty.index()].params.len();
        let mut args = Vec::with_capacity(n + 2);
        let o = self.env.offsets;
        let callee = if let Some(_def) = self.env.info.defined_func_index(f) {
            args.extend([self.vmctx, self.vmctx]);
            args.extend_from_slice(self.peekn(n));
            let r = self.direct_func_ref(f);
            if tail {
                self.b.ins().return_call(r, &args);
                self.stack.truncate(self.stack.len() - n);
                self.reachable = false;
                return;
            }
            let call = self.b.ins().call(r, &args);
            self.stack.truncate(self.stack.len() - n);
            call
        } else {
            let import = o.imported_func(f.0);
            let code = self.vm_load(
                self.ptr,
                self.vmctx,
                import + o.func_wasm_call(),
                vm_const(),
            );
            let callee_vmctx =
                self.vm_load(self.ptr, self.vmctx, import + o.func_vmctx(), vm_const());
            args.extend([callee_vmctx, self.vmctx]);
            args.extend_from_slice(self.peekn(n));
            self.stack.truncate(self.stack.len() - n);
            let sig = self.signature_ref(ty);
            if tail {
                self.b.ins().return_call_indirect(sig, code, &args);
                self.reachable = false;
                return;
            }
            self.b.ins().call_indirect(sig, code, &args)
        };
        let results = self.b.inst_results(callee).to_vec();
        self.stack.extend(results);
    }

    /// `call_indirect` and `return_call_indirect`.
    pub fn translate_call_indirect(&mut self, ty: TypeIndex, table: TableIndex, tail: bool) {
        let o = self.env.offsets;
        let index = self.pop();
        let func_ref = self.table_get(table, index);
        self.b
            .ins()
            .trapz(func_ref, trap_code(Trap::IndirectCallToNull));
        let type_ids = self.vm_load(self.ptr, self.vmctx, o.type_ids(), vm_const());
        let expected = self.vm_load(ir::types::I32, type_ids, ty.0 * 4, vm_const());
        let actual = self.vm_load(
            ir::types::I32,
            func_ref,
            o.func_ref_type_id(),
            func_ref_field(),
        );
        let mismatch = self.b.ins().icmp(IntCC::NotEqual, expected, actual);
        self.b.ins().trapnz(mismatch, trap_code(Trap::BadSignature));
        let code = self.vm_load(self.ptr, func_ref, o.func_wasm_call(), func_ref_field());
        let callee_vmctx = self.vm_load(self.ptr, func_ref, o.func_vmctx(), func_ref_field());
        let n = self.env.info.types[ty.index()].params.len();
        let mut args = Vec::with_capacity(n + 2);
        args.extend([callee_vmctx, self.vmctx]);
        args.extend_from_slice(self.peekn(n));
        self.stack.truncate(self.stack.len() - n);
        let sig = self.signature_ref(ty);
        if tail {
            self.b.ins().return_call_indirect(sig, code, &args);
            self.reachable = false;
            return;
        }
        let call = self.b.ins().call_indirect(sig, code, &args);
        let results = self.b.inst_results(call).to_vec();
        self.stack.extend(results);
    }

    /// Calls a runtime helper through the builtins table; returns its result, if any.
    pub fn call_builtin(&mut self, builtin: Builtin, args: &[ir::Value]) -> Option<ir::Value> {
        let sig = match self.builtin_sigs.get(&builtin.index()) {
            Some(&s) => s,
            None => {
                let call_conv = CallConv::triple_default(self.env.isa.triple());
                let mut sig = ir::Signature::new(call_conv);
                let ty = |t: BuiltinType, ptr: ir::Type| match t {
                    BuiltinType::VMContext | BuiltinType::Pointer => ptr,
                    BuiltinType::I32 => ir::types::I32,
                };
                sig.params.extend(
                    builtin
                        .params()
                        .iter()
                        .map(|&t| AbiParam::new(ty(t, self.ptr))),
                );
                sig.returns
                    .extend(builtin.result().map(|t| AbiParam::new(ty(t, self.ptr))));
                let s = self.b.import_signature(sig);
                self.builtin_sigs.insert(builtin.index(), s);
                s
            }
        };
        let o = self.env.offsets;
        let table = self.vm_load(self.ptr, self.vmctx, o.builtins(), vm_const());
        let f = self.vm_load(self.ptr, table, builtin.index() * o.ptr, vm_const());
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, f, &all);
        self.b.inst_results(call).first().copied()
    }

    /// Calls a builtin that returns 0 on failure, trapping with `trap` in that case.
    pub fn call_checked_builtin(&mut self, builtin: Builtin, args: &[ir::Value], trap: Trap) {
        let ok = self
            .call_builtin(builtin, args)
            .expect("checked builtins return a status");
        self.b.ins().trapz(ok, trap_code(trap));
    }

    /// Calls `memory.grow` or `table.grow` and returns the old size (or -1), trapping with
    /// `HostError` when the builtin returns [`GROW_TRAP`]: the store's resource limiter refused
    /// the growth with an error, which the call then reports.
    pub fn call_grow_builtin(&mut self, builtin: Builtin, args: &[ir::Value]) -> ir::Value {
        let r = self
            .call_builtin(builtin, args)
            .expect("grow builtins return a size");
        let trap = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, r, i64::from(GROW_TRAP));
        self.b.ins().trapnz(trap, trap_code(Trap::HostError));
        r
    }

    /// The address of the store's `VMStoreContext` (the pointer never changes).
    pub fn store_context(&mut self) -> ir::Value {
        let store = self.env.offsets.store();
        self.vm_load(self.ptr, self.vmctx, store, vm_const())
    }

    /// Loads a field of the `VMStoreContext` that never changes while the store lives.
    pub fn store_constant(&mut self, ty: ir::Type, offset: u32) -> ir::Value {
        let store = self.store_context();
        self.vm_load(ty, store, offset, vm_const())
    }

    /// An `i32` constant.
    pub fn i32_const(&mut self, v: u32) -> ir::Value {
        self.b.ins().iconst(ir::types::I32, i64::from(v))
    }
}
