// The one setting of the pages: where the API is. Empty means the same
// origin (the local API serves both). For a deployment, set the API
// Gateway URL from the stack's ApiUrl output, e.g.
//   export const API_BASE = "https://a1b2c3d4e5.execute-api.ap-east-1.amazonaws.com";
export const API_BASE = "";
