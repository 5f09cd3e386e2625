// qtn_sim_top: qtn_core with its memory ports served by the Verilator harness
// (harness.cpp) through DPI-C: the card memory and the row-exponent memory live in C++
// arrays that Python reads and writes directly. Simulation only: every port is served
// each cycle; the core itself keeps the permute's reads to one per bank (PL banks).
module qtn_sim_top #(
    parameter integer PE_M = 2,
    parameter integer PE_N = 2,
    parameter integer MW = 18,
    parameter integer AW = 54,
    parameter integer EW = 16,
    parameter integer MAXD = 12,
    parameter integer PL = 2
) (
    input  wire clk,
    input  wire rst,
    input  wire desc_valid,
    output wire desc_ready,
    input  wire [32*(8+2*MAXD)-1:0] desc_data,
    output wire ev_start,
    output wire [23:0] ev_start_tag,
    output wire ev_gemm_done,
    output wire [23:0] ev_gemm_tag,
    output wire ev_perm_done,
    output wire [23:0] ev_perm_tag,
    output wire idle
);
    import "DPI-C" function longint qtn_mem_read(input int addr);
    import "DPI-C" function void qtn_mem_write(input int addr, input longint data);
    import "DPI-C" function int qtn_xmem_read(input int addr);
    import "DPI-C" function void qtn_xmem_write(input int addr, input int data);

    localparam integer NR = PE_M + PE_N + PL;
    localparam integer NX = PE_M + PE_N;
    localparam integer NW = PE_M + PL;
    wire [NR-1:0] rd_en;
    wire [32*NR-1:0] rd_addr;
    reg  [64*NR-1:0] rd_data;
    wire [NX-1:0] xrd_en;
    wire [32*NX-1:0] xrd_addr;
    reg  [EW*NX-1:0] xrd_data;
    wire [NW-1:0] wr_en;
    wire [32*NW-1:0] wr_addr;
    wire [64*NW-1:0] wr_data;
    wire [PL-1:0] xwr_en;
    wire [32*PL-1:0] xwr_addr;
    wire [EW*PL-1:0] xwr_data;

    qtn_core #(.PE_M(PE_M), .PE_N(PE_N), .MW(MW), .AW(AW), .EW(EW), .MAXD(MAXD), .PL(PL)) core (
        .clk(clk), .rst(rst), .desc_valid(desc_valid), .desc_ready(desc_ready), .desc_data(desc_data),
        .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data),
        .xrd_en(xrd_en), .xrd_addr(xrd_addr), .xrd_data(xrd_data),
        .wr_en(wr_en), .wr_addr(wr_addr), .wr_data(wr_data),
        .xwr_en(xwr_en), .xwr_addr(xwr_addr), .xwr_data(xwr_data),
        .ev_start(ev_start), .ev_start_tag(ev_start_tag),
        .ev_gemm_done(ev_gemm_done), .ev_gemm_tag(ev_gemm_tag),
        .ev_perm_done(ev_perm_done), .ev_perm_tag(ev_perm_tag), .idle(idle)
    );

    // The card memory this top stands for has PL word-interleaved banks: one permute
    // read and one permute write per bank per cycle. The core must never ask for more;
    // checked here, independently of the cycle model that prices the conflicts.
    localparam integer PR = PE_M + PE_N;   // first permute read port
    localparam integer PW = PE_M;          // first permute write port
    integer l, l2;
    always @(posedge clk) begin
        for (l = 0; l < PL; l = l + 1)
            for (l2 = l + 1; l2 < PL; l2 = l2 + 1) begin
                if (rd_en[PR + l] && rd_en[PR + l2]
                        && (rd_addr[32*(PR + l) +: 32] % PL) == (rd_addr[32*(PR + l2) +: 32] % PL))
                    $fatal(1, "permute lanes %0d and %0d read bank %0d in one cycle", l, l2,
                           rd_addr[32*(PR + l) +: 32] % PL);
                if (wr_en[PW + l] && wr_en[PW + l2]
                        && (wr_addr[32*(PW + l) +: 32] % PL) == (wr_addr[32*(PW + l2) +: 32] % PL))
                    $fatal(1, "permute lanes %0d and %0d write bank %0d in one cycle", l, l2,
                           wr_addr[32*(PW + l) +: 32] % PL);
            end
    end

    integer i;
    always @(posedge clk) begin
        for (i = 0; i < NR; i = i + 1)
            if (rd_en[i]) rd_data[64*i +: 64] <= qtn_mem_read(rd_addr[32*i +: 32]);
        for (i = 0; i < NX; i = i + 1)
            if (xrd_en[i]) xrd_data[EW*i +: EW] <= EW'(qtn_xmem_read(xrd_addr[32*i +: 32]));
        for (i = 0; i < NW; i = i + 1)
            if (wr_en[i]) qtn_mem_write(wr_addr[32*i +: 32], wr_data[64*i +: 64]);
        for (i = 0; i < PL; i = i + 1)
            if (xwr_en[i]) qtn_xmem_write(xwr_addr[32*i +: 32], 32'(signed'(xwr_data[EW*i +: EW])));
    end
endmodule
