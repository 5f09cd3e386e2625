// Verilator harness of qtn_sim_top, built into a shared library that qtn's rtl driver
// (qtn/fpga/rtl_sim.py) loads with ctypes. The card memory and the row-exponent memory
// are C++ arrays served to the RTL through DPI-C; Python maps them as NumPy arrays.
// One run pushes a list of descriptors into the RTL queue as fast as the queue takes
// them and clocks until every descriptor is done and the core is idle; the cycle of
// every descriptor's start and completion is recorded.
#include <cstdint>
#include <cstring>
#include <vector>
#include "Vqtn_sim_top.h"
#include "verilated.h"
#include "svdpi.h"

namespace {
struct Sim {
    VerilatedContext ctx;
    Vqtn_sim_top* top = nullptr;
    std::vector<uint64_t> mem;
    std::vector<int32_t> xmem;
    uint64_t reads = 0, writes = 0, xreads = 0, xwrites = 0;
    int bad_address = 0;
};
Sim* g_sim = nullptr;  // the DPI functions serve the simulation being clocked
}

extern "C" {
long long qtn_mem_read(int addr) {
    uint32_t a = static_cast<uint32_t>(addr);
    if (a >= g_sim->mem.size()) { g_sim->bad_address = 1; return 0; }
    ++g_sim->reads;
    return static_cast<long long>(g_sim->mem[a]);
}
void qtn_mem_write(int addr, long long data) {
    uint32_t a = static_cast<uint32_t>(addr);
    if (a >= g_sim->mem.size()) { g_sim->bad_address = 1; return; }
    ++g_sim->writes;
    g_sim->mem[a] = static_cast<uint64_t>(data);
}
int qtn_xmem_read(int addr) {
    uint32_t a = static_cast<uint32_t>(addr);
    if (a >= g_sim->xmem.size()) { g_sim->bad_address = 1; return 0; }
    ++g_sim->xreads;
    return g_sim->xmem[a];
}
void qtn_xmem_write(int addr, int data) {
    uint32_t a = static_cast<uint32_t>(addr);
    if (a >= g_sim->xmem.size()) { g_sim->bad_address = 1; return; }
    ++g_sim->xwrites;
    g_sim->xmem[a] = data;
}

void* qtn_rtl_new(uint64_t mem_words, uint64_t xmem_words) {
    Sim* s = new Sim();
    s->mem.assign(mem_words, 0);
    s->xmem.assign(xmem_words, 0);
    s->top = new Vqtn_sim_top(&s->ctx);
    g_sim = s;
    s->top->rst = 1;
    s->top->desc_valid = 0;
    for (int i = 0; i < 4; ++i) {
        s->top->clk = 0; s->top->eval();
        s->top->clk = 1; s->top->eval();
    }
    s->top->rst = 0;
    s->top->clk = 0; s->top->eval();
    return s;
}

void qtn_rtl_free(void* h) {
    Sim* s = static_cast<Sim*>(h);
    if (g_sim == s) g_sim = nullptr;
    s->top->final();
    delete s->top;
    delete s;
}

uint64_t* qtn_rtl_mem(void* h) { return static_cast<Sim*>(h)->mem.data(); }
int32_t* qtn_rtl_xmem(void* h) { return static_cast<Sim*>(h)->xmem.data(); }

// Returns 0 on success, 1 on a cycle-limit overrun, 2 on an out-of-range address.
// start/done: per descriptor (indexed by tag), cycles counted from the run's first clock.
// counters: [cycles, mem reads, mem writes, xmem reads, xmem writes].
int qtn_rtl_run(void* h, const uint32_t* descs, int n_desc, int words_per_desc, uint64_t max_cycles,
                uint64_t* start, uint64_t* done, uint64_t* counters) {
    Sim* s = static_cast<Sim*>(h);
    g_sim = s;
    s->reads = s->writes = s->xreads = s->xwrites = 0;
    s->bad_address = 0;
    Vqtn_sim_top* t = s->top;
    int next = 0, finished = 0;
    uint64_t cycle = 0;
    for (int i = 0; i < n_desc; ++i) { start[i] = done[i] = ~0ULL; }
    while (true) {
        t->clk = 0;
        bool push = next < n_desc && t->desc_ready;
        t->desc_valid = push;
        if (push) {
            for (int w = 0; w < words_per_desc; ++w) t->desc_data[w] = descs[static_cast<size_t>(next) * words_per_desc + w];
        }
        t->eval();
        t->clk = 1;
        t->eval();
        ++cycle;
        if (push) ++next;
        if (t->ev_start && t->ev_start_tag < static_cast<uint32_t>(n_desc)) start[t->ev_start_tag] = cycle;
        if (t->ev_gemm_done && t->ev_gemm_tag < static_cast<uint32_t>(n_desc)) { done[t->ev_gemm_tag] = cycle; ++finished; }
        if (t->ev_perm_done && t->ev_perm_tag < static_cast<uint32_t>(n_desc)) { done[t->ev_perm_tag] = cycle; ++finished; }
        if (s->bad_address) break;
        if (next == n_desc && finished >= n_desc && t->idle) break;
        if (cycle >= max_cycles) break;
    }
    t->clk = 0;
    t->desc_valid = 0;
    t->eval();
    counters[0] = cycle; counters[1] = s->reads; counters[2] = s->writes;
    counters[3] = s->xreads; counters[4] = s->xwrites;
    if (s->bad_address) return 2;
    if (!(next == n_desc && finished >= n_desc && t->idle)) return 1;
    return 0;
}
}
