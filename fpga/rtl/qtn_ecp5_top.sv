// qtn_ecp5_top: the systolic array (qtn_array) with on-chip stimulus, for synthesis,
// place-and-route and timing on an ECP5. A 64-bit LFSR shifts pseudo-random mantissas
// into the operand registers every cycle and a counter frames tiles of K beats; every
// result bit is XOR-reduced into one output pin, so no PE, multiplier or accumulator
// can be optimized away and the IO count stays tiny. Timing here is the array's: the
// descriptor queue, address generators and card memory are verified in Verilator
// (qtn_core) and not part of this netlist.
module qtn_ecp5_top #(
    parameter integer PE_M = 4,
    parameter integer PE_N = 4,
    parameter integer MW = 18,
    parameter integer AW = 54,
    parameter integer K = 8
) (
    input  wire clk,
    input  wire rst,
    output reg  result,
    output reg  drain
);
    localparam integer NB = 2 * MW * (PE_M + PE_N);
    reg [63:0] lfsr;
    reg [NB-1:0] operands;
    reg [7:0] beat;
    always @(posedge clk) begin
        if (rst) begin
            lfsr <= 64'h9E3779B97F4A7C15;
            beat <= 0;
        end else begin
            lfsr <= {lfsr[62:0], lfsr[63] ^ lfsr[62] ^ lfsr[60] ^ lfsr[59]};
            beat <= (beat == K - 1) ? 8'd0 : beat + 1'b1;
        end
        operands <= {operands[NB-17:0], lfsr[15:0]};
    end
    wire [PE_M*PE_N*AW-1:0] res_re, res_im;
    wire drain_start;
    qtn_array #(.PE_M(PE_M), .PE_N(PE_N), .MW(MW), .AW(AW)) array (
        .clk(clk), .in_valid(!rst), .in_first(beat == 0), .in_last(beat == K - 1),
        .a_re(operands[0 +: PE_M*MW]), .a_im(operands[PE_M*MW +: PE_M*MW]),
        .b_re(operands[2*PE_M*MW +: PE_N*MW]), .b_im(operands[2*PE_M*MW + PE_N*MW +: PE_N*MW]),
        .res_re(res_re), .res_im(res_im), .drain_start(drain_start)
    );
    always @(posedge clk) begin
        result <= ^{res_re, res_im};
        drain <= drain_start;
    end
endmodule
