// qtn_cpe: one complex multiply-accumulate processing element of the systolic array.
//
// Output stationary: the PE owns one element of the output tile. A (re, im) mantissas
// arrive from the left and leave to the right one cycle later; B mantissas arrive from
// above and leave below. The beat flags (valid, first, last) travel with A. Pipeline:
// input registers (also the systolic pass-through), product registers (4 real
// multiplies: one MULT18X18D each at MW <= 18), accumulate. On `last` the finished sum
// is copied into `res` (and `res_new` pulses for one cycle), so the drain can read it
// while the accumulator already starts the next tile.
module qtn_cpe #(
    parameter integer MW = 18,   // mantissa width (signed)
    parameter integer AW = 54    // accumulator width (signed)
) (
    input  wire                 clk,
    input  wire                 in_valid,
    input  wire                 in_first,
    input  wire                 in_last,
    input  wire signed [MW-1:0] a_re_in,
    input  wire signed [MW-1:0] a_im_in,
    input  wire signed [MW-1:0] b_re_in,
    input  wire signed [MW-1:0] b_im_in,
    output reg                  out_valid,
    output reg                  out_first,
    output reg                  out_last,
    output reg  signed [MW-1:0] a_re_out,
    output reg  signed [MW-1:0] a_im_out,
    output reg  signed [MW-1:0] b_re_out,
    output reg  signed [MW-1:0] b_im_out,
    output reg  signed [AW-1:0] res_re,
    output reg  signed [AW-1:0] res_im,
    output reg                  res_new
);
    // stage 1: input / pass-through registers
    always @(posedge clk) begin
        out_valid <= in_valid;
        out_first <= in_first;
        out_last  <= in_last;
        a_re_out  <= a_re_in;
        a_im_out  <= a_im_in;
        b_re_out  <= b_re_in;
        b_im_out  <= b_im_in;
    end

    // stage 2: the four real products
    reg signed [2*MW-1:0] p_rr, p_ii, p_ri, p_ir;
    reg p_valid, p_first, p_last;
    always @(posedge clk) begin
        p_rr <= a_re_out * b_re_out;
        p_ii <= a_im_out * b_im_out;
        p_ri <= a_re_out * b_im_out;
        p_ir <= a_im_out * b_re_out;
        p_valid <= out_valid;
        p_first <= out_first;
        p_last  <= out_last;
    end

    // stage 3: accumulate (re = rr - ii, im = ri + ir), exact in AW bits
    wire signed [AW-1:0] s_re = $signed(p_rr) - $signed(p_ii);
    wire signed [AW-1:0] s_im = $signed(p_ri) + $signed(p_ir);
    reg  signed [AW-1:0] acc_re, acc_im;
    wire signed [AW-1:0] n_re = p_first ? s_re : acc_re + s_re;
    wire signed [AW-1:0] n_im = p_first ? s_im : acc_im + s_im;
    always @(posedge clk) begin
        res_new <= p_valid && p_last;
        if (p_valid) begin
            acc_re <= n_re;
            acc_im <= n_im;
            if (p_last) begin
                res_re <= n_re;
                res_im <= n_im;
            end
        end
    end
endmodule
