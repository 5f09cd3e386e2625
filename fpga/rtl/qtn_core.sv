// qtn_core: descriptor queue + on-card permute unit + block-floating-point GEMM engine
// around the systolic array (qtn_array).
//
// Card memory holds one 64-bit word per complex element: {exp[EW], im[MW], re[MW]},
// value (re + i im) * 2^exp. A second memory (xmem) holds the shared row exponents.
// Descriptors (32 x 32-bit words, layout in fpga/rtl/README.md and
// qtn/fpga/descriptors.py) run in order:
//   PERMUTE: strided copy src -> dst (dst written linearly, src address
//     base + sum idx[d]*stride[d]), PL elements (one chunk of consecutive dst words)
//     per cycle when their source words lie in distinct banks: card memory is PL banks,
//     word-interleaved (bank = addr mod PL), one read per bank per cycle for the
//     permute. A chunk whose source words share banks takes as many cycles as the most
//     loaded bank (lane L is read in the sub-cycle equal to the number of earlier lanes
//     in its bank); its PL consecutive dst words always hit PL distinct banks and are
//     written in one cycle. While copying it keeps the max exponent of every
//     `group` consecutive dst elements and writes it to xmem[dst_xbase + g]. This lays
//     an operand out as rows of k (A as (batch, m, k), B as (batch, n, k)) with one
//     shared exponent per row.
//   GEMM: C[b, i, j] = sum_kk A[b, i, kk] B[b, j, kk]; mantissas are shifted to the
//     row's shared exponent (round half up), multiplied exactly, accumulated in AW bits,
//     and normalized back to an MW-bit word with exponent XA[i] + XB[j] + shift.
// `wait` in a descriptor holds it until everything issued before it has been written;
// without it, a descriptor leaves the queue as soon as its unit (GEMM or PERMUTE) is free,
// so a permute overlaps a running GEMM.
// Memory ports have one cycle of read latency; the simulation top (qtn_sim_top) serves
// them, a board would connect banked on-chip RAM / HBM ports.
module qtn_core #(
    parameter integer PE_M = 2,
    parameter integer PE_N = 2,
    parameter integer MW = 18,
    parameter integer AW = 54,
    parameter integer EW = 16,
    parameter integer MAXD = 12,
    parameter integer QDEPTH = 4,
    parameter integer MQ = 16,         // tiles in flight between issue and drain
    parameter integer PL = 2           // permute lanes = card-memory banks
) (
    input  wire clk,
    input  wire rst,
    input  wire desc_valid,
    output wire desc_ready,
    input  wire [32*(8+2*MAXD)-1:0] desc_data,
    // memory read ports: 0..PE_M-1 A rows, PE_M..PE_M+PE_N-1 B columns, then PL permute lanes
    output reg  [PE_M+PE_N+PL-1:0]  rd_en,
    output reg  [32*(PE_M+PE_N+PL)-1:0] rd_addr,
    input  wire [64*(PE_M+PE_N+PL)-1:0] rd_data,
    output reg  [PE_M+PE_N-1:0]     xrd_en,
    output reg  [32*(PE_M+PE_N)-1:0] xrd_addr,
    input  wire [EW*(PE_M+PE_N)-1:0] xrd_data,
    // memory write ports: 0..PE_M-1 drain rows, then PL permute lanes (consecutive words)
    output reg  [PE_M+PL-1:0]       wr_en,
    output reg  [32*(PE_M+PL)-1:0]  wr_addr,
    output reg  [64*(PE_M+PL)-1:0]  wr_data,
    // row-exponent writes: PL ports, consecutive addresses (PL-banked exponent memory)
    output reg  [PL-1:0]            xwr_en,
    output reg  [32*PL-1:0]         xwr_addr,
    output reg  [EW*PL-1:0]         xwr_data,
    // events
    output reg                      ev_start,
    output reg  [23:0]              ev_start_tag,
    output reg                      ev_gemm_done,
    output reg  [23:0]              ev_gemm_tag,
    output reg                      ev_perm_done,
    output reg  [23:0]              ev_perm_tag,
    output wire                     idle
);
    localparam integer DW = 8 + 2 * MAXD;
    localparam integer NR = PE_M + PE_N + PL;
    localparam integer PR = PE_M + PE_N;   // first permute read port
    localparam signed [EW-1:0] EMIN = -(1 <<< (EW - 1));
    localparam signed [EW-1:0] EMAX = (1 <<< (EW - 1)) - 1;
    localparam signed [AW:0] MAXM = (1 <<< (MW - 1)) - 1;
    localparam integer PERIOD_MIN = (PE_M > PE_N) ? PE_M : PE_N;

    // ---------------------------------------------------------------- number format
    function automatic signed [MW-1:0] align(input signed [MW-1:0] m, input integer s);
        logic signed [MW+1:0] t;
        integer sc;
        begin
            sc = (s > MW) ? MW : s;
            if (sc <= 0) align = m;
            else begin
                t = ($signed({{2{m[MW-1]}}, m}) + ((MW+2)'(1) <<< (sc - 1))) >>> sc;
                align = t[MW-1:0];
            end
        end
    endfunction

    function automatic signed [AW:0] rshift_round(input signed [AW-1:0] v, input integer s);
        logic signed [AW:0] t;
        begin
            t = {v[AW-1], v};
            if (s > 0) t = (t + ((AW+1)'(1) <<< (s - 1))) >>> s;
            rshift_round = t;
        end
    endfunction

    function automatic [63:0] normalize(input signed [AW-1:0] re, input signed [AW-1:0] im,
                                        input signed [EW+1:0] xsum);
        logic [AW-1:0] mag;
        logic signed [AW:0] r1, i1;
        logic signed [EW+2:0] e;
        integer len, sh, i;
        begin
            mag = (re[AW-1] ? -re : re) | (im[AW-1] ? -im : im);
            len = 0;
            for (i = 0; i < AW; i = i + 1) if (mag[i]) len = i + 1;
            sh = (len > MW - 1) ? len - (MW - 1) : 0;
            r1 = rshift_round(re, sh);
            i1 = rshift_round(im, sh);
            if (r1 > MAXM || r1 < -MAXM || i1 > MAXM || i1 < -MAXM) begin
                sh = sh + 1;
                r1 = rshift_round(re, sh);
                i1 = rshift_round(im, sh);
            end
            e = (EW+3)'(xsum) + (EW+3)'(sh);
            if (mag == 0) e = (EW+3)'(EMIN);
            else if (e <= (EW+3)'(EMIN)) e = (EW+3)'(EMIN) + 1;
            else if (e > (EW+3)'(EMAX)) e = (EW+3)'(EMAX);
            normalize = 64'(unsigned'({e[EW-1:0], i1[MW-1:0], r1[MW-1:0]}));
        end
    endfunction

    // ---------------------------------------------------------------- descriptor queue
    reg [32*DW-1:0] q_mem [0:QDEPTH-1];
    reg [$clog2(QDEPTH+1)-1:0] q_count;
    reg [$clog2(QDEPTH)-1:0] q_head, q_tail;
    assign desc_ready = (q_count != QDEPTH[$clog2(QDEPTH+1)-1:0]);
    wire [32*DW-1:0] head = q_mem[q_head];
    wire [31:0] hw [0:DW-1];
    genvar gw;
    generate for (gw = 0; gw < DW; gw = gw + 1) begin : g_hw
        assign hw[gw] = head[32*gw +: 32];
    end endgenerate

    // ---------------------------------------------------------------- unit state
    // The GEMM unit and the PERMUTE unit issue independently: a permute without `wait`
    // leaves the queue while a GEMM is still issuing (and the reverse), so the next
    // operand's permute overlaps the running GEMM. Issue stays in queue order.
    reg        g_busy, p_busy;
    reg [23:0] g_tag, p_tag;
    // GEMM issue
    reg [31:0] g_batch, g_m, g_k, g_n, g_abase, g_axbase, g_bbase, g_bxbase, g_cbase;
    reg [31:0] g_b, g_ti, g_tj, g_t, g_period, g_mt, g_nt;
    // PERMUTE issue
    reg [31:0] p_src, p_dst, p_xbase, p_group, p_total, p_lin, p_sub;
    reg [31:0] p_size [0:MAXD-1];
    reg [31:0] p_stride [0:MAXD-1];
    reg [31:0] p_idx [0:MAXD-1];      // source index of the chunk's first element
    reg [31:0] p_caddr;                // its source address

    // pipeline valid flags used for `wait` and idle
    reg s1_v, s2_v, w_v, p1_v, pw_v;
    reg [$clog2(MQ+1)-1:0] mq_count;
    wire drained = !s1_v && !s2_v && !w_v && !p1_v && !pw_v && (mq_count == 0);
    wire all_done = drained && !g_busy && !p_busy;
    assign idle = all_done && (q_count == 0);

    wire head_gemm = (hw[0][3:0] == 4'd1);
    wire q_pop = (q_count != 0) && (head_gemm ? !g_busy : !p_busy) && (!hw[0][4] || all_done);
    wire q_push = desc_valid && desc_ready;

    // ---------------------------------------------------------------- GEMM stage 0 (issue)
    wire        g_beat = g_busy && (g_t < g_k);
    wire        g_first = (g_t == 0);
    wire        g_last = (g_t == g_k - 1);
    wire        g_tile_end = g_busy && (g_t == g_period - 1);
    wire        g_final = g_tile_end && (g_tj == g_nt - 1) && (g_ti == g_mt - 1) && (g_b == g_batch - 1);
    wire [31:0] row0 = g_ti * PE_M;
    wire [31:0] col0 = g_tj * PE_N;

    // ---------------------------------------------------------------- PERMUTE stage 0
    // One chunk = PL consecutive dst elements; lane L's source index is the chunk's index
    // advanced L times (last dimension fastest), its bank the source address mod PL.
    wire p_beat = p_busy;
    reg [31:0] l_idx [0:PL][0:MAXD-1];
    reg [31:0] l_addr [0:PL];
    // address step when digit d increments and every faster digit wraps to 0:
    // stride[d] - sum_{e>d} (size[e]-1)*stride[e]; lanes then need adders, not multipliers
    reg [31:0] p_delta [0:MAXD-1];
    reg [PL-1:0] l_valid, l_sel;
    reg [31:0] l_rank [0:PL-1];
    reg [31:0] p_maxrank;
    integer d, l, j;
    always @* begin
        begin : deltas
            logic [31:0] back;
            back = 0;
            for (d = MAXD - 1; d >= 0; d = d - 1) begin
                p_delta[d] = p_stride[d] - back;
                back = back + (p_size[d] - 1) * p_stride[d];
            end
        end
        for (d = 0; d < MAXD; d = d + 1) l_idx[0][d] = p_idx[d];
        l_addr[0] = p_caddr;
        p_maxrank = 0;
        for (l = 0; l < PL; l = l + 1) begin
            logic cy;
            logic [31:0] step;
            l_valid[l] = (p_lin + l < p_total);
            cy = 1'b1;
            step = 0;
            for (d = MAXD - 1; d >= 0; d = d - 1) begin
                if (cy && l_idx[l][d] == p_size[d] - 1) l_idx[l + 1][d] = 0;
                else if (cy) begin l_idx[l + 1][d] = l_idx[l][d] + 1; step = p_delta[d]; cy = 1'b0; end
                else l_idx[l + 1][d] = l_idx[l][d];
            end
            l_addr[l + 1] = l_addr[l] + step;
        end
        for (l = 0; l < PL; l = l + 1) begin
            l_rank[l] = 0;
            for (j = 0; j < l; j = j + 1)
                if (l_valid[j] && (l_addr[j] % PL) == (l_addr[l] % PL)) l_rank[l] = l_rank[l] + 1;
            if (l_valid[l] && l_rank[l] > p_maxrank) p_maxrank = l_rank[l];
            l_sel[l] = p_beat && l_valid[l] && (l_rank[l] == p_sub);
        end
    end
    wire p_chunk_end = p_beat && (p_sub == p_maxrank);
    wire p_desc_end = p_chunk_end && (p_lin + PL >= p_total);

    // read-port requests (registered: memory answers in the next cycle)
    integer r, c, lr;
    always @* begin
        rd_en = '0; rd_addr = '0; xrd_en = '0; xrd_addr = '0;
        for (r = 0; r < PE_M; r = r + 1) begin
            if (g_beat && (row0 + r < g_m)) begin
                rd_en[r] = 1'b1;
                rd_addr[32*r +: 32] = g_abase + ((g_b * g_m) + row0 + r) * g_k + g_t;
                xrd_en[r] = 1'b1;
                xrd_addr[32*r +: 32] = g_axbase + g_b * g_m + row0 + r;
            end
        end
        for (c = 0; c < PE_N; c = c + 1) begin
            if (g_beat && (col0 + c < g_n)) begin
                rd_en[PE_M + c] = 1'b1;
                rd_addr[32*(PE_M + c) +: 32] = g_bbase + ((g_b * g_n) + col0 + c) * g_k + g_t;
                xrd_en[PE_M + c] = 1'b1;
                xrd_addr[32*(PE_M + c) +: 32] = g_bxbase + g_b * g_n + col0 + c;
            end
        end
        for (lr = 0; lr < PL; lr = lr + 1) begin
            if (l_sel[lr]) begin
                rd_en[PR + lr] = 1'b1;
                rd_addr[32*(PR + lr) +: 32] = l_addr[lr];
            end
        end
    end

    // ---------------------------------------------------------------- stage 1 registers
    reg s1_first, s1_last, s1_tile_last;
    reg [PE_M-1:0] s1_rmask;
    reg [PE_N-1:0] s1_cmask;
    reg [31:0] s1_cbase, s1_n;
    reg [23:0] s1_tag;
    // stage 2: aligned mantissas into the array
    reg s2_first, s2_last;
    reg [PE_M*MW-1:0] s2_are, s2_aim;
    reg [PE_N*MW-1:0] s2_bre, s2_bim;
    // permute stage 1: words of the chunk as they arrive; written when the chunk is complete
    reg [31:0] p1_dst, p1_gpos, p1_gidx, p1_group, p1_xbase;
    reg p1_last, p1_first, p1_end;
    reg [PL-1:0] p1_sel, p1_valid;
    reg [23:0] p1_tag;
    reg signed [EW-1:0] p_run;
    reg [63:0] p_buf [0:PL-1];

    // tile metadata queue (pushed in stage 1 of a tile's first beat, popped by the drain)
    reg [PE_M-1:0] mq_rmask [0:MQ-1];
    reg [PE_N-1:0] mq_cmask [0:MQ-1];
    reg [31:0] mq_cbase [0:MQ-1];
    reg [31:0] mq_n [0:MQ-1];
    reg [23:0] mq_tag [0:MQ-1];
    reg mq_last [0:MQ-1];
    reg signed [EW-1:0] mq_xa [0:MQ-1][0:PE_M-1];
    reg signed [EW-1:0] mq_xb [0:MQ-1][0:PE_N-1];
    reg [$clog2(MQ)-1:0] mq_head, mq_tail;

    // ---------------------------------------------------------------- the array
    wire [PE_M*PE_N*AW-1:0] res_re, res_im;
    wire drain_start;
    qtn_array #(.PE_M(PE_M), .PE_N(PE_N), .MW(MW), .AW(AW)) array (
        .clk(clk), .in_valid(s2_v), .in_first(s2_first), .in_last(s2_last),
        .a_re(s2_are), .a_im(s2_aim), .b_re(s2_bre), .b_im(s2_bim),
        .res_re(res_re), .res_im(res_im), .drain_start(drain_start)
    );

    // drain: column dc of the head tile, one column per cycle
    reg        dr_active;
    reg [31:0] dr_col;
    wire [31:0] dcol = drain_start ? 32'd0 : dr_col;
    wire        dr_now = drain_start || dr_active;
    wire        dr_done = dr_now && (dcol == PE_N - 1);

    integer i, lw;
    always @(posedge clk) begin
        ev_start <= 1'b0; ev_gemm_done <= 1'b0; ev_perm_done <= 1'b0;
        if (rst) begin
            q_count <= 0; q_head <= 0; q_tail <= 0; g_busy <= 1'b0; p_busy <= 1'b0;
            s1_v <= 0; s2_v <= 0; w_v <= 0; p1_v <= 0; pw_v <= 0;
            mq_count <= 0; mq_head <= 0; mq_tail <= 0; dr_active <= 0;
            wr_en <= '0; xwr_en <= '0;
        end else begin
            // --- queue
            if (q_push) begin
                q_mem[q_tail] <= desc_data;
                q_tail <= q_tail + 1'b1;
            end
            q_count <= q_count + (q_push ? 1 : 0) - (q_pop ? 1 : 0);
            // --- dispatch
            if (q_pop) begin
                q_head <= q_head + 1'b1;
                ev_start <= 1'b1;
                ev_start_tag <= hw[0][31:8];
            end
            if (q_pop && head_gemm) begin
                g_busy <= 1'b1;
                g_tag <= hw[0][31:8];
                g_batch <= hw[1]; g_m <= hw[2]; g_k <= hw[3]; g_n <= hw[4];
                g_abase <= hw[5]; g_axbase <= hw[6]; g_bbase <= hw[7]; g_bxbase <= hw[8]; g_cbase <= hw[9];
                g_b <= 0; g_ti <= 0; g_tj <= 0; g_t <= 0;
                g_mt <= (hw[2] + PE_M - 1) / PE_M;
                g_nt <= (hw[4] + PE_N - 1) / PE_N;
                g_period <= (hw[3] > PERIOD_MIN) ? hw[3] : PERIOD_MIN;
            end
            if (q_pop && !head_gemm) begin
                p_busy <= 1'b1;
                p_tag <= hw[0][31:8];
                p_src <= hw[1]; p_dst <= hw[2]; p_xbase <= hw[3]; p_group <= hw[4]; p_total <= hw[6];
                p_lin <= 0; p_sub <= 0; p_caddr <= hw[1];
                for (i = 0; i < MAXD; i = i + 1) begin
                    p_size[i] <= (i < hw[5]) ? hw[8 + i] : 32'd1;
                    p_stride[i] <= (i < hw[5]) ? hw[8 + MAXD + i] : 32'd0;
                    p_idx[i] <= 0;
                end
            end
            // --- GEMM issue counters
            if (g_busy) begin
                if (g_tile_end) begin
                    g_t <= 0;
                    if (g_final) g_busy <= 1'b0;
                    if (g_tj == g_nt - 1) begin
                        g_tj <= 0;
                        if (g_ti == g_mt - 1) begin
                            g_ti <= 0;
                            g_b <= g_b + 1;
                        end else g_ti <= g_ti + 1;
                    end else g_tj <= g_tj + 1;
                end else g_t <= g_t + 1;
            end
            // --- PERMUTE issue counters: next sub-cycle, or the next chunk
            if (p_beat) begin
                if (p_chunk_end) begin
                    p_sub <= 0;
                    p_lin <= p_lin + PL;
                    for (i = 0; i < MAXD; i = i + 1) p_idx[i] <= l_idx[PL][i];
                    p_caddr <= l_addr[PL];
                    if (p_desc_end) p_busy <= 1'b0;
                end else p_sub <= p_sub + 1;
            end
            // --- GEMM stage 1
            s1_v <= g_beat;
            s1_first <= g_first;
            s1_last <= g_last;
            s1_tile_last <= (g_tj == g_nt - 1) && (g_ti == g_mt - 1) && (g_b == g_batch - 1);
            s1_tag <= g_tag;
            s1_n <= g_n;
            s1_cbase <= g_cbase + ((g_b * g_m) + row0) * g_n + col0;
            for (r = 0; r < PE_M; r = r + 1) s1_rmask[r] <= (row0 + r < g_m);
            for (c = 0; c < PE_N; c = c + 1) s1_cmask[c] <= (col0 + c < g_n);
            // --- GEMM stage 2: align mantissas to the shared row / column exponent
            s2_v <= s1_v;
            s2_first <= s1_first;
            s2_last <= s1_last;
            for (r = 0; r < PE_M; r = r + 1) begin
                logic [63:0] w;
                logic signed [EW-1:0] e, x;
                w = rd_data[64*r +: 64];
                e = w[2*MW +: EW];
                x = xrd_data[EW*r +: EW];
                s2_are[MW*r +: MW] <= s1_rmask[r] ? align(w[0 +: MW], 32'(x) - 32'(e)) : '0;
                s2_aim[MW*r +: MW] <= s1_rmask[r] ? align(w[MW +: MW], 32'(x) - 32'(e)) : '0;
            end
            for (c = 0; c < PE_N; c = c + 1) begin
                logic [63:0] w;
                logic signed [EW-1:0] e, x;
                w = rd_data[64*(PE_M + c) +: 64];
                e = w[2*MW +: EW];
                x = xrd_data[EW*(PE_M + c) +: EW];
                s2_bre[MW*c +: MW] <= s1_cmask[c] ? align(w[0 +: MW], 32'(x) - 32'(e)) : '0;
                s2_bim[MW*c +: MW] <= s1_cmask[c] ? align(w[MW +: MW], 32'(x) - 32'(e)) : '0;
            end
            // tile metadata push
            if (s1_v && s1_first) begin
                mq_rmask[mq_tail] <= s1_rmask;
                mq_cmask[mq_tail] <= s1_cmask;
                mq_cbase[mq_tail] <= s1_cbase;
                mq_n[mq_tail] <= s1_n;
                mq_tag[mq_tail] <= s1_tag;
                mq_last[mq_tail] <= s1_tile_last;
                for (r = 0; r < PE_M; r = r + 1)
                    mq_xa[mq_tail][r] <= s1_rmask[r] ? xrd_data[EW*r +: EW] : EMIN;
                for (c = 0; c < PE_N; c = c + 1)
                    mq_xb[mq_tail][c] <= s1_cmask[c] ? xrd_data[EW*(PE_M + c) +: EW] : EMIN;
                mq_tail <= mq_tail + 1'b1;
            end
            mq_count <= mq_count + ((s1_v && s1_first) ? 1 : 0) - (dr_done ? 1 : 0);
            // --- drain: normalize column dcol of the head tile into PE_M writes
            w_v <= dr_now;
            if (dr_now) begin
                dr_active <= !dr_done;
                dr_col <= dcol + 1;
                for (r = 0; r < PE_M; r = r + 1) begin
                    wr_en[r] <= mq_rmask[mq_head][r] && mq_cmask[mq_head][dcol];
                    wr_addr[32*r +: 32] <= mq_cbase[mq_head] + r * mq_n[mq_head] + dcol;
                    wr_data[64*r +: 64] <= normalize(res_re[(r*PE_N + dcol)*AW +: AW],
                                                     res_im[(r*PE_N + dcol)*AW +: AW],
                                                     (EW+2)'(mq_xa[mq_head][r]) + (EW+2)'(mq_xb[mq_head][dcol]));
                end
                if (dr_done) begin
                    mq_head <= mq_head + 1'b1;
                    if (mq_last[mq_head]) begin
                        ev_gemm_done <= 1'b1;
                        ev_gemm_tag <= mq_tag[mq_head];
                    end
                end
            end else begin
                for (r = 0; r < PE_M; r = r + 1) wr_en[r] <= 1'b0;
            end
            // --- PERMUTE stage 1 -> write stage
            p1_v <= p_beat;
            p1_sel <= l_sel;
            p1_valid <= l_valid;
            p1_end <= p_chunk_end;
            p1_dst <= p_dst + p_lin;
            p1_last <= p_desc_end;
            p1_first <= p_beat && (p_lin == 0);
            p1_tag <= p_tag;
            p1_group <= p_group;
            p1_xbase <= p_xbase;
            pw_v <= p1_v;
            for (lw = 0; lw < PL; lw = lw + 1) wr_en[PE_M + lw] <= 1'b0;
            xwr_en <= '0;
            if (p1_v) begin
                logic [63:0] w [0:PL-1];
                logic signed [EW-1:0] e, run;
                logic [31:0] gpos, gidx;
                for (lw = 0; lw < PL; lw = lw + 1) begin
                    w[lw] = p1_sel[lw] ? rd_data[64*(PR + lw) +: 64] : p_buf[lw];
                    p_buf[lw] <= w[lw];
                end
                if (p1_end) begin
                    gpos = p1_first ? 32'd0 : p1_gpos;
                    gidx = p1_first ? 32'd0 : p1_gidx;
                    run = p_run;
                    for (lw = 0; lw < PL; lw = lw + 1) begin
                        if (p1_valid[lw]) begin
                            wr_en[PE_M + lw] <= 1'b1;
                            wr_addr[32*(PE_M + lw) +: 32] <= p1_dst + lw;
                            wr_data[64*(PE_M + lw) +: 64] <= w[lw];
                            e = w[lw][2*MW +: EW];
                            run = (gpos == 0 || e > run) ? e : run;
                            if (gpos == p1_group - 1) begin
                                xwr_en[lw] <= 1'b1;
                                xwr_addr[32*lw +: 32] <= p1_xbase + gidx;
                                xwr_data[EW*lw +: EW] <= run;
                                gpos = 0;
                                gidx = gidx + 1;
                            end else gpos = gpos + 1;
                        end
                    end
                    p_run <= run;
                    p1_gpos <= gpos;
                    p1_gidx <= gidx;
                    if (p1_last) begin
                        ev_perm_done <= 1'b1;
                        ev_perm_tag <= p1_tag;
                    end
                end
            end
        end
    end
endmodule
