// A todo as the backend's JSON API returns it: what the backend writes and the mcp-server reads.

export interface Todo {
  id: number;
  title: string;
  completed: boolean;
  createdAt: string;
  updatedAt: string;
}
