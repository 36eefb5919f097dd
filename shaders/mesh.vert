#version 330 core
// Mesh vertex shader (inserted objects, colliders): world transform + OpenCV camera.
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec3 a_color;
uniform mat4 u_model;   // world-from-layer similarity
uniform mat4 u_view;    // world -> OpenCV camera
uniform mat4 u_proj;    // OpenCV camera -> clip
out vec3 v_normal;      // camera space
out vec3 v_color;
out vec3 v_pos;         // camera space

void main() {
    vec4 pc = u_view * (u_model * vec4(a_pos, 1.0));
    v_pos = pc.xyz;
    v_normal = mat3(u_view) * (mat3(u_model) * a_normal);
    v_color = a_color;
    gl_Position = u_proj * pc;
}
