#version 330 core
// See reproject.vert. The old frame's colour (already composited over its background) at
// u_alpha: 1 near where it was drawn, fading out as the camera moves away; left out where
// the moving frame under it holds something clearly nearer (u_moving: (sum of w / depth,
// sum of w) as splat.frag's DEPTH_OUT 2 writes it; something the old frame did not see, e.g.
// a foreground object moved over the sky by parallax).
uniform sampler2D u_color;
uniform sampler2D u_moving;
uniform vec2 u_size;     // framebuffer size, pixels
uniform float u_alpha;
uniform float u_nearer;  // moving frame's inverse depth over this x ours: it is in front
uniform vec2 u_feather;  // 1 / the width of its faded border, in its texture coordinates
in vec2 v_uv;
out vec4 frag;

void main() {
    vec2 m = texture(u_moving, gl_FragCoord.xy / u_size).rg;
    // gl_FragCoord.w: 1 / depth in the current camera (exact wherever the clipper cut the
    // triangle, unlike a noperspective varying)
    if (m.g > 0.5 && m.r > u_nearer * gl_FragCoord.w * m.g) discard;
    // fade out over the kept frame's outermost pixels: no hard seam where it ends
    vec2 edge = min(v_uv, 1.0 - v_uv) * u_feather;
    float a = u_alpha * clamp(min(edge.x, edge.y), 0.0, 1.0);
    frag = vec4(texture(u_color, v_uv).rgb, a);
}
