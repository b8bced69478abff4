/*
 * interp: a small stack-machine bytecode interpreter (switch dispatch) running a program that
 * loops `n * 10000` times over integer arithmetic and locals. Indirect branches and memory traffic
 * on the operand stack.
 */
#include "kernel.h"

enum op {
    OP_PUSH,  /* push the next word */
    OP_LOAD,  /* push local[next word] */
    OP_STORE, /* local[next word] = pop */
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_XOR,
    OP_SHR,  /* a >> (b & 31) */
    OP_DUP,
    OP_JNZ,  /* pop; jump to next word if non-zero */
    OP_JMP,
    OP_HALT, /* return local[0] */
};

/* local0 = acc, local1 = counter, local2 = scratch. */
static const int32_t program[] = {
    OP_LOAD, 1,              /* 0: while counter != 0 */
    OP_JNZ, 6,               /* 2 */
    OP_HALT,                 /* 4 */
    OP_HALT,                 /* 5 */
    OP_LOAD, 0,              /* 6: scratch = acc * 31 + counter */
    OP_PUSH, 31,
    OP_MUL,
    OP_LOAD, 1,
    OP_ADD,
    OP_STORE, 2,
    OP_LOAD, 2,              /* 17: acc = scratch ^ (scratch >> 7) */
    OP_DUP,
    OP_PUSH, 7,
    OP_SHR,
    OP_XOR,
    OP_STORE, 0,
    OP_LOAD, 1,              /* 27: counter = counter - 1 */
    OP_PUSH, 1,
    OP_SUB,
    OP_STORE, 1,
    OP_JMP, 0,               /* 34 */
};

static int32_t execute(const int32_t *code, int32_t *locals) {
    int32_t stack[64];
    int32_t sp = 0;
    int32_t pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case OP_PUSH: stack[sp++] = code[pc++]; break;
        case OP_LOAD: stack[sp++] = locals[code[pc++]]; break;
        case OP_STORE: locals[code[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] + (uint32_t)stack[sp]); break;
        case OP_SUB: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] - (uint32_t)stack[sp]); break;
        case OP_MUL: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] * (uint32_t)stack[sp]); break;
        case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case OP_SHR: sp--; stack[sp - 1] = (int32_t)((uint32_t)stack[sp - 1] >> (stack[sp] & 31)); break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_JNZ: {
            int32_t target = code[pc++];
            if (stack[--sp] != 0) pc = target;
            break;
        }
        case OP_JMP: pc = code[pc]; break;
        case OP_HALT: return locals[0];
        default: return -1;
        }
    }
}

uint32_t run(uint32_t n) {
    int32_t locals[4] = {7, (int32_t)(n * 10000u), 0, 0};
    return (uint32_t)execute(program, locals);
}
