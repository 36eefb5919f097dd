#version 330 core
// Per-splat preprocessing, run as a fragment shader over a TEX_W-wide grid: texel j handles
// the j-th splat of the back-to-front order (so software GL spreads the work over all
// cores and does it once per splat, not once per quad corner).
// Attributes live in textures (uploaded once); the only buffer re-uploaded after a sort is
// the order buffer (splat indices back to front), read through a texture buffer.
// EWA projection as the reference rasterizer: Jacobian with x/z, y/z clamped to
// 1.3 tan(fov/2), +0.3 px^2 low-pass on the diagonal (a reduced frame's: u_lowpass).

#define MAX_LAYERS 32
#define TEX_W 4096
#define SH_DEGREE 3   // set per program by the renderer (0..3)
#define SH_TEXELS 12  // ceil(3 * (SH_DEGREE + 1)^2 / 4)

uniform usamplerBuffer u_order;  // R32UI splat indices, farthest first
uniform int u_count;             // splats in the order buffer
uniform float u_r2_max;        // quads end at most this squared Mahalanobis radius (huge: exact)
uniform float u_grow;            // scale of every splat (> 1: a limited frame covers for the dropped ones)
uniform vec2 u_lowpass;          // px^2 dilation, compensated pixel filter (scene.splatting.reduced_lowpass)

uniform sampler2D u_geom;    // RGBA32F, 3 texels/splat: (mean, opacity), (cxx cxy cxz cyy), (cyz czz layer aa)
uniform sampler2D u_color;   // RGBA16F/32F, u_sh_texels texels/splat: SH coeffs k-major, RGB fastest
uniform int u_split;         // order entries >= u_split index the second set (a merged coarse level)
uniform sampler2D u_geom2;   // the second set, laid out as u_geom / u_color
uniform sampler2D u_color2;
uniform mat4 u_models[MAX_LAYERS];  // world-from-layer similarity per layer slot
uniform mat4 u_view;        // world -> OpenCV camera (x right, y down, z forward)
uniform mat4 u_proj;        // OpenCV camera -> clip
uniform vec3 u_campos;      // camera centre, world
uniform vec4 u_intr;        // fx, fy, cx, cy in framebuffer pixels
uniform vec2 u_size;        // framebuffer width, height

layout(location = 0) out vec4 o_center;  // clip-space centre; w = 0 marks a culled splat
layout(location = 1) out vec4 o_axes;    // quad half-axes in pixels: (major.xy, minor.xy)
layout(location = 2) out vec4 o_color;   // rgb, opacity

// SH constants C0 C1 C2_0..4 C3_0..6 and NEAR_CULL / ALPHA_MIN come from shaders.load (scene.sh,
// scene.splatting): the CPU rasterisers use the same values.

ivec2 texel(int linear) { return ivec2(linear % TEX_W, linear / TEX_W); }

void cull() {
    o_center = vec4(0.0); o_axes = vec4(0.0); o_color = vec4(0.0);
}

vec3 sh_color(int i, bool second, vec3 d) {
    vec4 q[SH_TEXELS];
    int base = i * SH_TEXELS;
    if (second) {
        for (int k = 0; k < SH_TEXELS; ++k) q[k] = texelFetch(u_color2, texel(base + k), 0);
    } else {
        for (int k = 0; k < SH_TEXELS; ++k) q[k] = texelFetch(u_color, texel(base + k), 0);
    }
#define F(n) q[(n) / 4][(n) % 4]
#define SH(k) vec3(F(3 * (k)), F(3 * (k) + 1), F(3 * (k) + 2))
    vec3 c = 0.5 + C0 * SH(0);
#if SH_DEGREE >= 1
    {
        float x = d.x, y = d.y, z = d.z;
        c += -C1 * y * SH(1) + C1 * z * SH(2) - C1 * x * SH(3);
#if SH_DEGREE >= 2
        {
            float xx = x * x, yy = y * y, zz = z * z;
            c += C2_0 * x * y * SH(4) + C2_1 * y * z * SH(5) + C2_2 * (2.0 * zz - xx - yy) * SH(6)
               + C2_3 * x * z * SH(7) + C2_4 * (xx - yy) * SH(8);
#if SH_DEGREE >= 3
            {
                c += C3_0 * y * (3.0 * xx - yy) * SH(9) + C3_1 * x * y * z * SH(10)
                   + C3_2 * y * (4.0 * zz - xx - yy) * SH(11)
                   + C3_3 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * SH(12)
                   + C3_4 * x * (4.0 * zz - xx - yy) * SH(13) + C3_5 * z * (xx - yy) * SH(14)
                   + C3_6 * x * (xx - 3.0 * yy) * SH(15);
            }
#endif
        }
#endif
    }
#endif
#undef SH
#undef F
    return max(c, vec3(0.0));
}

void main() {
    int j = int(gl_FragCoord.y) * TEX_W + int(gl_FragCoord.x);
    if (j >= u_count) { cull(); return; }
    int i = int(texelFetch(u_order, j).r);
    bool second = i >= u_split;
    vec4 g0, g1, g2;
    if (second) {
        i -= u_split;
        g0 = texelFetch(u_geom2, texel(3 * i), 0);
        g1 = texelFetch(u_geom2, texel(3 * i + 1), 0);
        g2 = texelFetch(u_geom2, texel(3 * i + 2), 0);
    } else {
        g0 = texelFetch(u_geom, texel(3 * i), 0);
        g1 = texelFetch(u_geom, texel(3 * i + 1), 0);
        g2 = texelFetch(u_geom, texel(3 * i + 2), 0);
    }
    mat4 model = u_models[int(g2.z)];
    vec3 pw = (model * vec4(g0.xyz, 1.0)).xyz;
    vec3 t = (u_view * vec4(pw, 1.0)).xyz;
    if (t.z <= NEAR_CULL) { cull(); return; }
    vec4 clip = u_proj * vec4(t, 1.0);
    vec2 ndc = clip.xy / clip.w;
    if (abs(ndc.x) > 1.3 || abs(ndc.y) > 1.3) { cull(); return; }

    // Camera-space covariance: T S T^T with T = view rotation * (s R) of the layer.
    mat3 S = mat3(g1.x, g1.y, g1.z,  g1.y, g1.w, g2.x,  g1.z, g2.x, g2.y);
    mat3 A = mat3(model);
    mat3 T = mat3(u_view) * A;
    mat3 Sc = (u_grow * u_grow) * (T * S * transpose(T));

    float fx = u_intr.x, fy = u_intr.y, cx = u_intr.z, cy = u_intr.w;
    float tanx = 0.5 * u_size.x / fx, tany = 0.5 * u_size.y / fy;
    float tx = t.z * clamp(t.x / t.z, -(cx / fx + 0.3 * tanx), (u_size.x - cx) / fx + 0.3 * tanx);
    float ty = t.z * clamp(t.y / t.z, -(cy / fy + 0.3 * tany), (u_size.y - cy) / fy + 0.3 * tany);
    float iz = 1.0 / t.z;
    // J is 2x3: rows (fx/z, 0, -fx tx/z^2), (0, fy/z, -fy ty/z^2); GLSL mat3x2 is column-major.
    mat3x2 J = mat3x2(fx * iz, 0.0,  0.0, fy * iz,  -fx * tx * iz * iz, -fy * ty * iz * iz);
    mat2 cov = J * Sc * transpose(J);
    float lp = u_lowpass.x + u_lowpass.y;
    float a = cov[0][0] + lp, b = cov[0][1], c = cov[1][1] + lp;
    float det = a * c - b * b;
    float opacity = g0.w;
    if (g2.w > 0.5) {  // antialiased (mip-splatting) scenes: compensate the dilation
        float det0 = cov[0][0] * cov[1][1] - b * b;
        opacity *= sqrt(max(det0 / max(det, 1e-12), 0.0));
    } else if (u_lowpass.y > 0.0) {  // a reduced frame's pixel filter keeps the splat's weight
        float det0 = (cov[0][0] + u_lowpass.x) * (cov[1][1] + u_lowpass.x) - b * b;
        opacity *= sqrt(max(det0 / max(det, 1e-12), 0.0));
    }
    if (det <= 0.0 || opacity < ALPHA_MIN) { cull(); return; }

    float mid = 0.5 * (a + c);
    float rad = length(vec2(0.5 * (a - c), b));
    float l1 = mid + rad;
    float l2 = max(mid - rad, 1e-8);
    vec2 e1 = abs(b) > 1e-12 ? normalize(vec2(b, l1 - a)) : (a >= c ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
    vec2 e2 = vec2(-e1.y, e1.x);
    // Quad half-size in sigmas: where opacity * exp(-r^2/2) reaches 1/255 (at most ~3.33 sigma),
    // at most sqrt(u_r2_max); the splat pass recomputes r from the opacity.
    float r = sqrt(min(2.0 * log(opacity / ALPHA_MIN), u_r2_max));
    o_center = clip;
    o_axes = vec4(r * sqrt(l1) * e1, r * sqrt(l2) * e2);

    // View direction in the layer's own frame: rotate back by the inverse rotation.
    vec3 dir = normalize(transpose(A) * normalize(pw - u_campos));
    o_color = vec4(sh_color(i, second, dir), opacity);
}
