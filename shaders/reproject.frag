#version 330 core
// See reproject.vert. The old frame's colour (already composited over its background) at
// u_alpha: 1 near where it was drawn, fading out as the camera moves away.
uniform sampler2D u_color;
uniform float u_alpha;
in vec2 v_uv;
out vec4 frag;

void main() {
    frag = vec4(texture(u_color, v_uv).rgb, u_alpha);
}
