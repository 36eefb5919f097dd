#version 330 core
// Gaussian splat fragment shader: premultiplied colour for back-to-front
// glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA); alpha capped at ALPHA_MAX, dropped below ALPHA_MIN
// (scene.splatting, written in by shaders.load). DEPTH_OUT as in splat.vert.
// DEPTH_OUT 1: the same blend gives (sum of w / depth, sum of w / depth², 0, sum of w), w = the
// colour weights, so r / a is the frame's expected inverse depth per pixel and g / a its
// second moment (how much the splats there disagree on depth). DEPTH_OUT 2: colour at location 0
// and (sum of w / depth, sum of w) at location 1, an RG16F target (a moving frame that a
// reprojected frame is composited with).
#define DEPTH_OUT 0
flat in vec4 v_rgba;  // colour, opacity
in vec2 v_uv;
flat in float v_r2;
#if DEPTH_OUT
flat in float v_depth;
#endif
#if DEPTH_OUT == 2
layout(location = 0) out vec4 frag;
layout(location = 1) out vec4 frag_depth;
#else
out vec4 frag;
#endif

void main() {
    float d2 = dot(v_uv, v_uv);
    if (d2 > v_r2) discard;  // the quad's corners: alpha below the quad's cut-off there, skip the exp
    float alpha = min(ALPHA_MAX, v_rgba.a * exp(-0.5 * d2));
    if (alpha < ALPHA_MIN) discard;
#if DEPTH_OUT == 1
    frag = vec4(alpha / v_depth, alpha / (v_depth * v_depth), 0.0, alpha);
#else
    frag = vec4(v_rgba.rgb * alpha, alpha);
#endif
#if DEPTH_OUT == 2
    frag_depth = vec4(alpha / v_depth, alpha, 0.0, alpha);
#endif
}
