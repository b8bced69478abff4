//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, branches and `return`.
//!
//! Every frame's results arrive as parameters of its `following` block; a loop's parameters are
//! the parameters of its header block. Branch arguments are the top values of the operand stack.
//! Code after an unconditional transfer is unreachable: its frames are pushed as
//! [`FrameKind::Dead`] and generate nothing.

use super::{Cx, Frame, FrameKind, TranslateError};
use crate::translate::clif_type;
use cranelift_codegen::ir::{self, BlockArg, InstBuilder, JumpTableData};
use std::collections::HashMap;

fn block_args(values: &[ir::Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl Cx<'_, '_> {
    fn new_block_with_params(&mut self, types: &[aot_runtime::artifact::ValType]) -> ir::Block {
        let block = self.b.create_block();
        for &t in types {
            self.b.append_block_param(block, clif_type(self.env.isa, t));
        }
        block
    }

    fn push_dead_frame(&mut self) {
        self.control.push(Frame {
            kind: FrameKind::Dead,
            following: ir::Block::from_u32(0),
            height: self.stack.len(),
            num_params: 0,
            num_results: 0,
            reached: false,
        });
    }

    /// `block`.
    pub fn translate_block(&mut self, ty: wasmparser::BlockType) {
        if !self.reachable {
            return self.push_dead_frame();
        }
        let (params, results) = self.block_type(ty);
        let following = self.new_block_with_params(&results);
        self.control.push(Frame {
            kind: FrameKind::Block,
            following,
            height: self.stack.len() - params.len(),
            num_params: params.len(),
            num_results: results.len(),
            reached: false,
        });
    }

    /// `loop`.
    pub fn translate_loop(&mut self, ty: wasmparser::BlockType) {
        if !self.reachable {
            return self.push_dead_frame();
        }
        let (params, results) = self.block_type(ty);
        let header = self.new_block_with_params(&params);
        let following = self.new_block_with_params(&results);
        let args = self.popn(params.len());
        self.b.ins().jump(header, &block_args(&args));
        self.b.switch_to_block(header);
        // Before the checks: their variables add parameters to the (unsealed) header.
        let header_params = self.b.block_params(header).to_vec();
        self.limits_loop_header();
        let height = self.stack.len();
        self.stack.extend(header_params);
        self.control.push(Frame {
            kind: FrameKind::Loop { header },
            following,
            height,
            num_params: params.len(),
            num_results: results.len(),
            reached: false,
        });
    }

    /// `if`.
    pub fn translate_if(&mut self, ty: wasmparser::BlockType) {
        if !self.reachable {
            return self.push_dead_frame();
        }
        let cond = self.pop();
        let (params, results) = self.block_type(ty);
        let following = self.new_block_with_params(&results);
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.seal_block(then_block);
        self.b.seal_block(else_block);
        self.b.switch_to_block(then_block);
        let params_vals = self.peekn(params.len()).to_vec();
        self.control.push(Frame {
            kind: FrameKind::If {
                else_block: Some(else_block),
                params: params_vals,
            },
            following,
            height: self.stack.len() - params.len(),
            num_params: params.len(),
            num_results: results.len(),
            reached: false,
        });
    }

    /// `else`.
    pub fn translate_else(&mut self) {
        let reachable = self.reachable;
        let frame = self.control.last_mut().expect("validated: else inside if");
        let FrameKind::If { else_block, params } = &mut frame.kind else {
            // A dead `if`: its else branch is unreachable too.
            return;
        };
        let else_block = else_block.take().expect("validated: one else per if");
        let params = core::mem::take(params);
        let (following, height, n) = (frame.following, frame.height, frame.num_results);
        if reachable {
            frame.reached = true;
            let args = block_args(&self.stack[self.stack.len() - n..]);
            self.b.ins().jump(following, &args);
        }
        self.stack.truncate(height);
        self.stack.extend(params);
        self.b.switch_to_block(else_block);
        self.reachable = true;
    }

    /// `end`.
    pub fn translate_end(&mut self) {
        let mut frame = self.control.pop().expect("validated: end matches a frame");
        if let FrameKind::Dead = frame.kind {
            return;
        }
        if self.reachable {
            frame.reached = true;
            let args = block_args(self.peekn(frame.num_results));
            self.b.ins().jump(frame.following, &args);
        }
        match &frame.kind {
            FrameKind::If {
                else_block: Some(else_block),
                params,
            } => {
                // An `if` without `else`: the else branch passes the parameters through
                // (validation guarantees they have the result types).
                self.b.switch_to_block(*else_block);
                self.b.ins().jump(frame.following, &block_args(params));
                frame.reached = true;
            }
            FrameKind::Loop { header } => self.b.seal_block(*header),
            _ => {}
        }
        self.stack.truncate(frame.height);
        if frame.reached {
            self.b.switch_to_block(frame.following);
            self.b.seal_block(frame.following);
            self.stack
                .extend_from_slice(self.b.func.dfg.block_params(frame.following));
            self.reachable = true;
        } else {
            self.reachable = false;
        }
        if self.control.is_empty() && self.reachable {
            // The end of the function body: `following` is the exit block.
            let results = self.popn(frame.num_results);
            self.fuel_before_return();
            self.b.ins().return_(&results);
            self.reachable = false;
        }
    }

    /// The block a branch of relative depth `depth` jumps to, and how many arguments it takes.
    fn branch_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        match frame.kind {
            FrameKind::Loop { header } => (header, frame.num_params),
            _ => {
                frame.reached = true;
                (frame.following, frame.num_results)
            }
        }
    }

    /// `br`.
    pub fn translate_br(&mut self, depth: u32) {
        if !self.reachable {
            return;
        }
        if depth as usize == self.control.len() - 1 {
            return self.translate_return();
        }
        let (target, n) = self.branch_target(depth);
        let args = block_args(self.peekn(n));
        self.b.ins().jump(target, &args);
        self.reachable = false;
    }

    /// `br_if`.
    pub fn translate_br_if(&mut self, depth: u32) {
        if !self.reachable {
            return;
        }
        let cond = self.pop();
        let (target, n) = self.branch_target(depth);
        let args = block_args(self.peekn(n));
        let next = self.b.create_block();
        self.b.ins().brif(cond, target, &args, next, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
    }

    /// `br_table`.
    pub fn translate_br_table(
        &mut self,
        targets: &wasmparser::BrTable<'_>,
        offset: usize,
    ) -> Result<(), TranslateError> {
        if !self.reachable {
            return Ok(());
        }
        let index = self.pop();
        let depths = targets
            .targets()
            .collect::<Result<Vec<u32>, _>>()
            .map_err(TranslateError::wasm)?;
        let default = targets.default();
        let mut edge_blocks: HashMap<u32, ir::Block> = HashMap::new();
        let mut block_for = |cx: &mut Self, depth: u32| -> ir::Block {
            if let Some(&b) = edge_blocks.get(&depth) {
                return b;
            }
            let (target, n) = cx.branch_target(depth);
            let block = if n == 0 {
                target
            } else {
                // Jump tables carry no arguments: go through an edge block.
                let edge = cx.b.create_block();
                edge_blocks.insert(depth, edge);
                edge
            };
            edge_blocks.insert(depth, block);
            block
        };
        let default_block = block_for(self, default);
        let mut table = Vec::with_capacity(depths.len());
        for &d in &depths {
            let block = block_for(self, d);
            table.push(self.b.func.dfg.block_call(block, &[]));
        }
        let default_call = self.b.func.dfg.block_call(default_block, &[]);
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default_call, &table));
        self.b.ins().br_table(index, jt);
        // Fill the edge blocks of targets that take arguments.
        let mut edges: Vec<(u32, ir::Block)> = edge_blocks.into_iter().collect();
        edges.sort_by_key(|(d, _)| *d);
        for (depth, block) in edges {
            let (target, n) = self.branch_target(depth);
            if n == 0 {
                continue;
            }
            self.b.seal_block(block);
            self.b.switch_to_block(block);
            let args = block_args(self.peekn(n));
            if depth as usize == self.control.len() - 1 {
                let vals = self.peekn(n).to_vec();
                self.fuel_before_return();
                self.b.ins().return_(&vals);
            } else {
                self.b.ins().jump(target, &args);
            }
        }
        let _ = offset;
        self.reachable = false;
        Ok(())
    }

    /// `return`.
    pub fn translate_return(&mut self) {
        if !self.reachable {
            return;
        }
        let n = self.control[0].num_results;
        let results = self.peekn(n).to_vec();
        self.fuel_before_return();
        self.b.ins().return_(&results);
        self.reachable = false;
    }

    /// `unreachable`.
    pub fn translate_unreachable(&mut self) {
        if !self.reachable {
            return;
        }
        let code = super::trap_code(aot_runtime::artifact::Trap::UnreachableCodeReached);
        self.b.ins().trap(code);
        self.reachable = false;
    }
}
