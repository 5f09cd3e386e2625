// qtn_array: PE_M x PE_N systolic array of complex MAC PEs (qtn_cpe).
//
// Inputs are one beat per cycle, not skewed: row r of A (a_*[r]) and column c of B
// (b_*[c]) for one k index, with the beat's flags. The array skews them itself (row r
// delayed r cycles, column c delayed c cycles), so PE (r, c) sees beat t at cycle
// t + r + c. Results are the PEs' `res` registers, flattened row-major
// (index r*PE_N + c); `drain_start` pulses in the cycle the bottom-left PE's result of a
// tile becomes visible: column c of that tile is complete and stable at drain_start + c
// as long as tiles are at least max(PE_M, PE_N) cycles apart.
module qtn_array #(
    parameter integer PE_M = 2,
    parameter integer PE_N = 2,
    parameter integer MW = 18,
    parameter integer AW = 54
) (
    input  wire                      clk,
    input  wire                      in_valid,
    input  wire                      in_first,
    input  wire                      in_last,
    input  wire [PE_M*MW-1:0]        a_re,
    input  wire [PE_M*MW-1:0]        a_im,
    input  wire [PE_N*MW-1:0]        b_re,
    input  wire [PE_N*MW-1:0]        b_im,
    output wire [PE_M*PE_N*AW-1:0]   res_re,
    output wire [PE_M*PE_N*AW-1:0]   res_im,
    output wire                      drain_start
);
    // horizontal (A + flags) and vertical (B) links; column PE_N / row PE_M are unused outputs
    wire [MW-1:0] h_re [0:PE_M-1][0:PE_N];
    wire [MW-1:0] h_im [0:PE_M-1][0:PE_N];
    wire          h_v  [0:PE_M-1][0:PE_N];
    wire          h_f  [0:PE_M-1][0:PE_N];
    wire          h_l  [0:PE_M-1][0:PE_N];
    wire [MW-1:0] v_re [0:PE_M][0:PE_N-1];
    wire [MW-1:0] v_im [0:PE_M][0:PE_N-1];
    wire          new_flag [0:PE_M-1][0:PE_N-1];

    genvar r, c;
    generate
        // input skew: row r of A and flags delayed r cycles
        for (r = 0; r < PE_M; r = r + 1) begin : g_row_skew
            if (r == 0) begin : g_direct
                assign h_re[0][0] = a_re[MW-1:0];
                assign h_im[0][0] = a_im[MW-1:0];
                assign h_v[0][0] = in_valid;
                assign h_f[0][0] = in_first;
                assign h_l[0][0] = in_last;
            end else begin : g_delay
                reg [MW-1:0] d_re [0:r-1];
                reg [MW-1:0] d_im [0:r-1];
                reg [r-1:0]  d_v, d_f, d_l;
                integer i;
                always @(posedge clk) begin
                    d_re[0] <= a_re[r*MW +: MW];
                    d_im[0] <= a_im[r*MW +: MW];
                    d_v[0] <= in_valid;
                    d_f[0] <= in_first;
                    d_l[0] <= in_last;
                    for (i = 1; i < r; i = i + 1) begin
                        d_re[i] <= d_re[i-1];
                        d_im[i] <= d_im[i-1];
                        d_v[i] <= d_v[i-1];
                        d_f[i] <= d_f[i-1];
                        d_l[i] <= d_l[i-1];
                    end
                end
                assign h_re[r][0] = d_re[r-1];
                assign h_im[r][0] = d_im[r-1];
                assign h_v[r][0] = d_v[r-1];
                assign h_f[r][0] = d_f[r-1];
                assign h_l[r][0] = d_l[r-1];
            end
        end
        // input skew: column c of B delayed c cycles
        for (c = 0; c < PE_N; c = c + 1) begin : g_col_skew
            if (c == 0) begin : g_direct
                assign v_re[0][0] = b_re[MW-1:0];
                assign v_im[0][0] = b_im[MW-1:0];
            end else begin : g_delay
                reg [MW-1:0] d_re [0:c-1];
                reg [MW-1:0] d_im [0:c-1];
                integer i;
                always @(posedge clk) begin
                    d_re[0] <= b_re[c*MW +: MW];
                    d_im[0] <= b_im[c*MW +: MW];
                    for (i = 1; i < c; i = i + 1) begin
                        d_re[i] <= d_re[i-1];
                        d_im[i] <= d_im[i-1];
                    end
                end
                assign v_re[0][c] = d_re[c-1];
                assign v_im[0][c] = d_im[c-1];
            end
        end
        for (r = 0; r < PE_M; r = r + 1) begin : g_r
            for (c = 0; c < PE_N; c = c + 1) begin : g_c
                qtn_cpe #(.MW(MW), .AW(AW)) pe (
                    .clk(clk),
                    .in_valid(h_v[r][c]), .in_first(h_f[r][c]), .in_last(h_l[r][c]),
                    .a_re_in(h_re[r][c]), .a_im_in(h_im[r][c]),
                    .b_re_in(v_re[r][c]), .b_im_in(v_im[r][c]),
                    .out_valid(h_v[r][c+1]), .out_first(h_f[r][c+1]), .out_last(h_l[r][c+1]),
                    .a_re_out(h_re[r][c+1]), .a_im_out(h_im[r][c+1]),
                    .b_re_out(v_re[r+1][c]), .b_im_out(v_im[r+1][c]),
                    .res_re(res_re[(r*PE_N+c)*AW +: AW]), .res_im(res_im[(r*PE_N+c)*AW +: AW]),
                    .res_new(new_flag[r][c])
                );
            end
        end
    endgenerate
    assign drain_start = new_flag[PE_M-1][0];
endmodule
