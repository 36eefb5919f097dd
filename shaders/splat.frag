#version 330 core
// Gaussian splat fragment shader: premultiplied colour for back-to-front
// glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA); alpha capped at ALPHA_MAX, dropped below ALPHA_MIN
// (scene.splatting, written in by shaders.load). SCREEN_UV, DEPTH_OUT as in splat.vert.
// DEPTH_OUT 1: the same blend gives (sum of w·depth, 0, 0, sum of w), w = the colour weights,
// so r / a is the frame's expected depth per pixel.
#define SCREEN_UV 1
#define DEPTH_OUT 0
flat in vec4 v_rgba;  // colour, opacity
#if SCREEN_UV
noperspective in vec2 v_uv;
#else
in vec2 v_uv;
#endif
flat in float v_r2;
#if DEPTH_OUT
flat in float v_depth;
#endif
out vec4 frag;

void main() {
    float d2 = dot(v_uv, v_uv);
    if (d2 > v_r2) discard;  // the quad's corners: alpha below the quad's cut-off there, skip the exp
    float alpha = min(ALPHA_MAX, v_rgba.a * exp(-0.5 * d2));
    if (alpha < ALPHA_MIN) discard;
#if DEPTH_OUT
    frag = vec4(v_depth * alpha, 0.0, 0.0, alpha);
#else
    frag = vec4(v_rgba.rgb * alpha, alpha);
#endif
}
