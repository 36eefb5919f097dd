#version 330 core
// Two-sided Lambert under a headlight a little above the viewer, plus ambient. A mesh
// whose colours came from photos (vertex colours, a texture) is lit already: u_shading
// (0..1) says how much of the shading it takes (a little, for its shape), where a plain
// grey mesh takes all of it. Full Lambert under a light from above drew a photo-coloured
// object 35-40 % darker than its splats (a trial's chair).
// u_depth_out as splat.frag's DEPTH_OUT, for an opaque surface (weight 1): 1 writes
// (1 / depth, 1 / depth², 0, 1) instead of colour, 2 colour at location 0 and
// (1 / depth, 1, 0, 1) at location 1; the splats in front blend over it.
in vec3 v_normal;
in vec3 v_color;
in vec3 v_pos;
uniform float u_shading;
uniform int u_depth_out;
layout(location = 0) out vec4 frag;
layout(location = 1) out vec4 frag_depth;

void main() {
    float iz = 1.0 / max(v_pos.z, 1e-6);             // camera space: z is the depth
    if (u_depth_out == 1) {
        frag = vec4(iz, iz * iz, 0.0, 1.0);
        return;
    }
    vec3 n = normalize(v_normal);
    if (dot(n, v_pos) > 0.0) n = -n;                 // face the camera (two-sided)
    vec3 light = normalize(vec3(0.0, -0.5, -1.0));   // OpenCV camera frame: y down, z forward
    float lambert = 0.4 + 0.6 * max(dot(n, light), 0.0);
    frag = vec4(v_color * (1.0 - u_shading * (1.0 - lambert)), 1.0);
    frag_depth = vec4(iz, 1.0, 0.0, 1.0);
}
