#version 330 core
// Gaussian splats: one triangle (ONE_TRIANGLE 1: vertices 3j..3j+2, glDrawArrays) or one quad
// (0: 4 vertices, 2 indexed triangles, corner k is vertex 4j + k) per splat, no vertex
// attributes. Splat j is the j-th of the back-to-front order, whose screen footprint prep.frag
// computed into three textures. (Plain vertex ids instead of instancing: llvmpipe runs small
// instances one by one.)

#define TEX_W 4096
// 1: the depth pass of viewer/reproject.py (splat.frag writes depth instead of colour);
// 2: colour and depth (two outputs)
#define DEPTH_OUT 0
// 1: the equilateral triangle around the footprint's ellipse (the unit circle in Mahalanobis
// coordinates, scaled by the cut-off radius) instead of the quad around it: 30 % more
// fragments (area 3√3 against 4), half the triangles. llvmpipe shades 4×4-pixel blocks per
// triangle, so a quad shades the blocks along its diagonal twice, and each triangle has its
// set-up and binning: in the bench room one triangle draws full frames 0.98-1.03× (300k
// splats) to 1.07× (1M) as fast (both drawn in turn in one process). Same pixels, same values.
#define ONE_TRIANGLE 1

uniform sampler2D u_center;  // RGBA32F clip-space centre (w = 0: culled)
uniform sampler2D u_axes;    // RGBA32F quad half-axes in pixels
uniform sampler2D u_rgba;    // RGBA32F colour, opacity
uniform vec2 u_size;         // framebuffer width, height
uniform float u_r2_max;      // quads end at most this squared Mahalanobis radius (as prep.frag)

flat out vec4 v_rgba;        // colour, opacity
// Mahalanobis coordinates: alpha = opacity * exp(-0.5 |uv|^2). Interpolated perspective-
// correct: a triangle's corners share one clip w, so screen-linear interpolation would give the
// same values and spare llvmpipe a 1/w per fragment, but Mesa's clipper gets noperspective
// values wrong where it cuts a big near splat's triangle (a dark splat 0.4 m before a
// reconstruction's camera painted 80 % of the frame).
out vec2 v_uv;
flat out float v_r2;         // |uv|^2 beyond which alpha < 1/255 (or the quad's limit)
#if DEPTH_OUT
flat out float v_depth;      // the centre's camera-space depth (clip w)
#endif

void main() {
#if ONE_TRIANGLE
    int j = gl_VertexID / 3;
    int k = gl_VertexID - 3 * j;
    vec2 corner = k == 0 ? vec2(0.0, 2.0) : vec2(k == 1 ? -1.7320508 : 1.7320508, -1.0);
#else
    int j = gl_VertexID >> 2;
    vec2 corner = vec2(float(gl_VertexID & 1) * 2.0 - 1.0, float((gl_VertexID >> 1) & 1) * 2.0 - 1.0);
#endif
    ivec2 tc = ivec2(j % TEX_W, j / TEX_W);
    vec4 center = texelFetch(u_center, tc, 0);
    if (center.w <= 0.0) {
        gl_Position = vec4(0.0, 0.0, 2.0, 1.0);  // outside the clip volume: no fragments
        v_rgba = vec4(0.0); v_uv = vec2(0.0); v_r2 = 0.0;
#if DEPTH_OUT
        v_depth = 0.0;
#endif
        return;
    }
    vec4 axes = texelFetch(u_axes, tc, 0);
    vec4 rgba = texelFetch(u_rgba, tc, 0);
    vec2 off = corner.x * axes.xy + corner.y * axes.zw;
    gl_Position = center + vec4(off.x * 2.0 / u_size.x, -off.y * 2.0 / u_size.y, 0.0, 0.0) * center.w;
    v_r2 = min(2.0 * log(rgba.a / ALPHA_MIN), u_r2_max);
    v_uv = corner * sqrt(v_r2);
    v_rgba = rgba;
#if DEPTH_OUT
    v_depth = center.w;
#endif
}
