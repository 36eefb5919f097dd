#version 330 core
// Gaussian splat fragment shader: premultiplied colour for back-to-front
// glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA); alpha capped at 0.99, dropped below 1/255.
flat in vec3 v_color;
flat in float v_opacity;
in vec2 v_uv;
flat in float v_r2;
out vec4 frag;

void main() {
    float d2 = dot(v_uv, v_uv);
    if (d2 > v_r2) discard;  // the quad's corners: alpha below the quad's cut-off there, skip the exp
    float alpha = min(0.99, v_opacity * exp(-0.5 * d2));
    if (alpha < 1.0 / 255.0) discard;
    frag = vec4(v_color * alpha, alpha);
}
