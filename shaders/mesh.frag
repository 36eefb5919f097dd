#version 330 core
// Two-sided Lambert under a headlight a little above the viewer, plus ambient. A mesh
// whose colours came from photos (vertex colours, a texture) is lit already: u_shading
// (0..1) says how much of the shading it takes (a little, for its shape), where a plain
// grey mesh takes all of it. Full Lambert under a light from above drew a photo-coloured
// object 35-40 % darker than its splats (a trial's chair).
in vec3 v_normal;
in vec3 v_color;
in vec3 v_pos;
uniform float u_shading;
out vec4 frag;

void main() {
    vec3 n = normalize(v_normal);
    if (dot(n, v_pos) > 0.0) n = -n;                 // face the camera (two-sided)
    vec3 light = normalize(vec3(0.0, -0.5, -1.0));   // OpenCV camera frame: y down, z forward
    float lambert = 0.4 + 0.6 * max(dot(n, light), 0.0);
    frag = vec4(v_color * (1.0 - u_shading * (1.0 - lambert)), 1.0);
}
