#version 330 core
// One triangle covering the viewport (viewer/refine_fade.py): no vertex buffer.

void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(2.0 * p - 1.0, 0.0, 1.0);
}
