#version 330 core
// Two-sided Lambert with a light above and behind the viewer, plus ambient.
in vec3 v_normal;
in vec3 v_color;
in vec3 v_pos;
out vec4 frag;

void main() {
    vec3 n = normalize(v_normal);
    if (dot(n, v_pos) > 0.0) n = -n;               // face the camera (two-sided)
    vec3 light = normalize(vec3(0.3, -0.8, -0.5));  // OpenCV camera frame: y down, z forward
    float shade = 0.35 + 0.65 * max(dot(n, light), 0.0);
    frag = vec4(v_color * shade, 1.0);
}
