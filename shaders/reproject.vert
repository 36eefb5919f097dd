#version 330 core
// The last full-quality frame, moved to the current camera (viewer/reproject.py): a mesh
// with one vertex per texel of that frame's expected-depth grid, each the surface point its
// texel saw (in the old camera's space), projected with the current camera; the fragments
// take the old frame's full-resolution colour. Triangles across depth edges were left out
// when the mesh was built.

layout(location = 0) in vec3 a_point;  // old camera space (OpenCV: x right, y down, z forward)
layout(location = 1) in vec2 a_uv;     // into the old frame's colour (bottom row first)
uniform mat4 u_to_clip;                // old camera space -> current clip space

out vec2 v_uv;

void main() {
    gl_Position = u_to_clip * vec4(a_point, 1.0);
    v_uv = a_uv;
}
