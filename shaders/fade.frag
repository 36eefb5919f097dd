#version 330 core
// The frame being faded out, texel for pixel, at u_alpha over what the target holds (blended
// GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA: viewer/refine_fade.py).

uniform sampler2D u_frame;
uniform float u_alpha;
out vec4 o_color;

void main() {
    o_color = vec4(texelFetch(u_frame, ivec2(gl_FragCoord.xy), 0).rgb, u_alpha);
}
